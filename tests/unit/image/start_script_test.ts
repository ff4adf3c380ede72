/**
 * The source checkout's `./branchgate` script (README "Two commands"): the flags of deno.json's
 * `tasks.branchgate`, the Deno that `make` installs into .tools/, one resident process.
 */

import * as assert from "node:assert/strict";
import { taskPermissions, taskV8Flags } from "../../image/bundle_lib.ts";

const SCRIPT = "branchgate";

/** A copy of the script in a temp checkout whose .tools Deno is a stand-in (or missing). */
async function fakeCheckout(withDeno: boolean): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "bg-start-" });
  await Deno.copyFile(SCRIPT, `${dir}/branchgate`);
  await Deno.chmod(`${dir}/branchgate`, 0o755);
  if (withDeno) {
    await Deno.mkdir(`${dir}/.tools/node_modules/.bin`, { recursive: true });
    // Prints its own PID, then its arguments, one per line.
    await Deno.writeTextFile(
      `${dir}/.tools/node_modules/.bin/deno`,
      '#!/bin/sh\necho "$$"\nprintf "%s\\n" "$@"\n',
      { mode: 0o755 },
    );
  }
  return dir;
}

Deno.test("./branchgate: exactly the flags of deno.json tasks.branchgate", async () => {
  const text = await Deno.readTextFile("deno.json");
  const script = await Deno.readTextFile(SCRIPT);
  const words = script.split(/\s+/).filter((w) => w.startsWith("--allow-") || w.startsWith("--v8"));
  assert.deepEqual(words, [...taskV8Flags(text), ...taskPermissions(text)]);
  assert.ok(taskV8Flags(text).length === 1, "the task sets V8 heap flags");
});

Deno.test("./branchgate: one process, the .tools Deno, from any directory", async () => {
  const dir = await fakeCheckout(true);
  try {
    const child = new Deno.Command(`${dir}/branchgate`, {
      args: ["run", "--config", "a b.toml"],
      cwd: "/",
      stdout: "piped",
      env: { PATH: "/usr/bin:/bin" }, // no deno on PATH
    }).spawn();
    const out = await child.output();
    assert.ok(out.success);
    const [pid, ...args] = new TextDecoder().decode(out.stdout).trimEnd().split("\n");
    assert.equal(Number(pid), child.pid, "the script exec's Deno: no second process stays");
    const real = await Deno.realPath(dir);
    assert.deepEqual(args.slice(0, 4), ["run", "--frozen", "--config", `${real}/deno.json`]);
    assert.deepEqual(args.slice(-4), [`${real}/src/main.ts`, "run", "--config", "a b.toml"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("./branchgate: before make, a clear message and exit 1", async () => {
  const dir = await fakeCheckout(false);
  try {
    const out = await new Deno.Command(`${dir}/branchgate`, {
      args: ["version"],
      stderr: "piped",
      env: { PATH: "/usr/bin:/bin" },
    }).output();
    assert.equal(out.code, 1);
    assert.match(new TextDecoder().decode(out.stderr), /run 'make' in .* first/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
