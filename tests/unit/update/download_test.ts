/**
 * `bundle install https://…` against a local HTTPS server (Deno.serve with a certificate the test
 * makes with the openssl CLI, trusted through --ca): an interrupted download resumes with an
 * HTTP Range request, a size cap and a tampered bundle are refused, plain http is refused.
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runBundle } from "../../../src/cli/bundle.ts";
import type { CommandIo } from "../../../src/update/commands/common.ts";
import { checkSlot, currentSlot } from "../../../src/update/slots.ts";
import { makeDevice, snapshot, TARGET } from "./device_fixture.ts";
import { makeBundle, makeKeys, NOW } from "./fixture.ts";

function openssl(cwd: string, ...args: string[]): void {
  const r = new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .outputSync();
  if (!r.success) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(r.stderr)}`);
}

/** A CA and a server certificate for localhost / 127.0.0.1 signed by it. */
function makeTls(dir: string): { ca: string; cert: string; key: string } {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    dir,
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=branchgate test CA",
  );
  openssl(dir, "req", ...ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=localhost");
  Deno.writeTextFileSync(
    join(dir, "ext.cnf"),
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "srv.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "srv.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  );
  return {
    ca: join(dir, "ca.pem"),
    cert: Deno.readTextFileSync(join(dir, "srv.pem")),
    key: Deno.readTextFileSync(join(dir, "srv.key")),
  };
}

interface Served {
  readonly ranges: (string | null)[];
  bytes: number;
}

/** Serves `body()` with Range support; the first `cutFirst` requests stop after `cutAt` bytes. */
function serve(
  tls: { cert: string; key: string },
  body: () => Uint8Array,
  cutAt: number,
  cutFirst: number,
) {
  const served: Served = { ranges: [], bytes: 0 };
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: tls.cert,
    key: tls.key,
    onListen: () => {},
    onError: () => new Response("error", { status: 500 }),
  }, (req) => {
    const data = body();
    const range = req.headers.get("range");
    served.ranges.push(range);
    const m = /^bytes=([0-9]+)-$/.exec(range ?? "");
    const from = m !== null && req.headers.get("if-range") === '"v1"' ? Number(m[1]) : 0;
    const slice = data.subarray(from);
    const cut = served.ranges.length <= cutFirst;
    const stream = new ReadableStream<Uint8Array>({
      async start(c) {
        const n = cut ? Math.min(cutAt, slice.length) : slice.length;
        for (let off = 0; off < n; off += 16384) {
          c.enqueue(slice.slice(off, Math.min(n, off + 16384)));
        }
        served.bytes += n;
        if (cut) {
          // Let the bytes so far reach the client, then drop the link.
          await new Promise((r) => setTimeout(r, 50));
          c.error(new Error("link dropped"));
        } else c.close();
      },
    });
    const headers: Record<string, string> = {
      etag: '"v1"',
      "content-length": String(slice.length),
    };
    if (from > 0) headers["content-range"] = `bytes ${from}-${data.length - 1}/${data.length}`;
    return new Response(stream, { status: from > 0 ? 206 : 200, headers });
  });
  return { server, served, url: `https://localhost:${server.addr.port}/v2.bgb` };
}

function capture(): CommandIo & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(l), err: (l) => lines.push(l), now: () => NOW };
}

const keys = makeKeys();

Deno.test("download: an interrupted install resumes with a Range request and finishes", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bg-dl-" });
  const state = await makeDevice(keys);
  const bundle = makeBundle(keys, "2.0.0", { extra: 400_000, arch: TARGET.arch });
  const { server, served, url } = serve(makeTls(dir), () => bundle, 150_000, 1);
  try {
    const args = [
      "install",
      "--state",
      state,
      "--arch",
      TARGET.arch,
      "--ca",
      join(dir, "ca.pem"),
      url,
    ];
    const before = snapshot(state);
    const io1 = capture();
    assert.equal(await runBundle(args, io1), 1, io1.lines.join("\n"));
    assert.match(io1.lines.join("\n"), /interrupted after [0-9]+ bytes.*resume/);
    const kept = Deno.statSync(join(state, "update", "download.part")).size;
    assert.ok(kept > 0 && kept <= 150_000, `kept ${kept}`);
    const now = snapshot(state);
    for (const k of [...now.keys()]) if (k.startsWith("update/download.part")) now.delete(k);
    assert.deepEqual(now, before, "only the partial download was added");
    const io2 = capture();
    assert.equal(await runBundle(args, io2), 0, io2.lines.join("\n"));
    assert.match(io2.lines.join("\n"), new RegExp(`resuming the download at byte ${kept}`));
    assert.deepEqual(served.ranges, [null, `bytes=${kept}-`]);
    assert.ok(served.bytes < bundle.length + 150_000 + 1, "not downloaded twice");
    assert.equal(currentSlot(state), "b");
    assert.deepEqual(checkSlot(state, "b"), { ok: true, version: "2.0.0" });
    assert.throws(() => Deno.statSync(join(state, "update", "download.part")));
  } finally {
    await server.shutdown();
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(state, { recursive: true });
  }
});

Deno.test("download: size cap, tampered bundle and plain http are refused; nothing installed", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bg-dl-" });
  const state = await makeDevice(keys);
  const good = makeBundle(keys, "2.0.0", { extra: 100_000, arch: TARGET.arch });
  const bad = good.slice();
  bad[bad.length - 10] = (bad[bad.length - 10] as number) ^ 1;
  let body = good;
  const { server, url } = serve(makeTls(dir), () => body, 0, 0);
  try {
    const base = ["install", "--state", state, "--arch", TARGET.arch, "--ca", join(dir, "ca.pem")];
    const before = snapshot(state);
    const cap = capture();
    assert.equal(await runBundle([...base, "--max-size", "50000", url], cap), 1);
    assert.match(cap.lines.join("\n"), /size cap/);
    body = bad;
    const t = capture();
    assert.equal(await runBundle([...base, url], t), 1);
    assert.match(t.lines.join("\n"), /SHA-256 does not match/);
    const h = capture();
    assert.equal(await runBundle([...base, url.replace("https:", "http:")], h), 1);
    assert.match(h.lines.join("\n"), /only https/);
    // Without the test CA the server is not trusted.
    const noCa = capture();
    assert.equal(
      await runBundle(["install", "--state", state, "--arch", TARGET.arch, url], noCa),
      1,
    );
    assert.deepEqual(snapshot(state), before, "refusals leave nothing behind");
  } finally {
    await server.shutdown();
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(state, { recursive: true });
  }
});
