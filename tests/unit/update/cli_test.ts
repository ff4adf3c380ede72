/**
 * `branchgate bundle` end to end, in process: an operator creates keys, builds and signs a
 * bundle, verifies it, provisions a device, installs, checks status, marks good, rolls back.
 * Secret keys never appear in any output; mistakes are one line with exit status 2.
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runBundle, usage } from "../../../src/cli/bundle.ts";
import type { CommandIo } from "../../../src/update/commands/common.ts";
import { decodeSecretKeyFile } from "../../../src/update/keys.ts";
import { currentSlot } from "../../../src/update/slots.ts";
import { NOW } from "./fixture.ts";

function capture(): CommandIo & { text: () => string } {
  const lines: string[] = [];
  return {
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
    now: () => NOW,
    text: () => lines.join("\n"),
  };
}

async function ok(args: string[]): Promise<string> {
  const io = capture();
  const rc = await runBundle(args, io);
  assert.equal(rc, 0, `${args.join(" ")}: ${io.text()}`);
  return io.text();
}

async function fails(args: string[], rc: number, re: RegExp): Promise<string> {
  const io = capture();
  assert.equal(await runBundle(args, io), rc, io.text());
  assert.match(io.text(), re);
  return io.text();
}

Deno.test("bundle CLI: keys, create, sign, verify, trust, install, status, mark-good, rollback", async () => {
  const w = Deno.makeTempDirSync({ prefix: "bg-cli-" });
  const k = join(w, "keys");
  const st = join(w, "state");
  const app = join(w, "app");
  Deno.mkdirSync(join(app, "bin"), { recursive: true });
  Deno.writeTextFileSync(join(app, "branchgate.js"), "console.log('v');\n");
  Deno.writeTextFileSync(join(app, "bin", "branchgate"), "#!/bin/sh\n");
  Deno.chmodSync(join(app, "bin", "branchgate"), 0o755);
  const all: string[] = [];
  const run = async (args: string[]) => {
    const t = await ok(args);
    all.push(t);
    return t;
  };
  try {
    await run(["keygen", "--role", "root", "--name", "root-2026", "--out", k]);
    await run([
      "keygen",
      "--role",
      "release",
      "--name",
      "rel-1",
      "--root-key",
      join(k, "root-2026.key"),
      "--out",
      k,
    ]);
    assert.equal(Deno.statSync(join(k, "rel-1.key")).mode! & 0o777, 0o600);
    await fails(
      ["keygen", "--role", "root", "--name", "root-2026", "--out", k],
      1,
      /exists; not overwriting/,
    );
    await run([
      "create",
      "--version",
      "1.0.0",
      "--arch",
      "x86_64",
      "--out",
      join(w, "v1.bgb"),
      app,
    ]);
    await fails(["verify", "--roots", k, join(w, "v1.bgb")], 1, /not signed/);
    await run([
      "sign",
      "--key",
      join(k, "rel-1.key"),
      "--cert",
      join(k, "rel-1.cert"),
      join(w, "v1.bgb"),
    ]);
    const v = await run(["verify", "--roots", k, join(w, "v1.bgb")]);
    assert.match(v, /branchgate 1\.0\.0 for generic\/x86_64/);
    assert.match(v, /signed by release key rel-1 .* certified by root key root-2026/);
    assert.match(v, /755 .* bin\/branchgate/);
    await run([
      "create",
      "--version",
      "1.1.0",
      "--arch",
      "x86_64",
      "--min-version",
      "1.0.0",
      "--key",
      join(k, "rel-1.key"),
      "--cert",
      join(k, "rel-1.cert"),
      "--out",
      join(w, "v2.bgb"),
      app,
    ]);
    await fails(
      ["install", "--state", st, "--arch", "x86_64", join(w, "v1.bgb")],
      1,
      /no trusted root key/,
    );
    await run(["trust", "--state", st, join(k, "root-2026.pub")]);
    await run(["install", "--state", st, "--arch", "x86_64", join(w, "v1.bgb")]);
    assert.match(
      await run(["install", "--state", st, "--arch", "x86_64", join(w, "v2.bgb")]),
      /installed 1\.1\.0 into slot b \(was 1\.0\.0\)/,
    );
    assert.match(
      await run(["status", "--state", st]),
      /b +\* +1\.1\.0 +no +on trial, 3 starts left/,
    );
    assert.match(await run(["boot", "--state", st]), /slot b \(1\.1\.0\), on trial, 2 starts left/);
    // Rolled back while 1.1.0 is on trial; once 1.0.0 is marked good the floor is 1.0.0.
    assert.match(await run(["rollback", "--state", st]), /rolled back to slot a \(1\.0\.0\)/);
    assert.equal(currentSlot(st), "a");
    assert.match(
      await run(["status", "--state", st]),
      /last fallback: .* slot b \(1\.1\.0\) -> a: operator rollback/,
    );
    assert.match(await run(["mark-good", "--state", st]), /floor 1\.0\.0/);
    await fails(
      ["install", "--state", st, "--arch", "aarch64", join(w, "v2.bgb")],
      1,
      /refused: bundle is for arch x86_64/,
    );
    // No secret ever printed.
    const text = all.join("\n");
    for (const name of ["root-2026", "rel-1"]) {
      const secret = decodeSecretKeyFile(Deno.readTextFileSync(join(k, `${name}.key`)));
      const hex = Array.from(secret.secretKey, (b) => b.toString(16).padStart(2, "0")).join("");
      assert.ok(!text.includes(hex));
    }
  } finally {
    Deno.removeSync(w, { recursive: true });
  }
});

Deno.test("bundle CLI: usage mistakes are one line with exit 2; help exits 0", async () => {
  await fails([], 2, /usage: branchgate bundle/);
  await fails(["frobnicate"], 2, /unknown command 'frobnicate'/);
  await fails(["create", "--out", "x"], 2, /--version is required/);
  await fails(["create", "--version", "one", "--out", "x", "d"], 2, /not semver/);
  await fails(["install", "--bogus", "x"], 2, /bogus/);
  await fails(["keygen", "--role", "admin", "--name", "x"], 2, /--role must be root or release/);
  await fails(["keygen", "--role", "release", "--name", "x"], 2, /needs --root-key/);
  await fails(["sign", "--key", "a"], 2, /--cert is required/);
  for (
    const sub of [
      "keygen",
      "create",
      "sign",
      "verify",
      "trust",
      "install",
      "status",
      "mark-good",
      "rollback",
      "boot",
      "health",
    ]
  ) {
    assert.match(await ok([sub, "--help"]), /^usage: branchgate bundle /);
    assert.ok(usage().includes(sub));
  }
});
