import assert from "node:assert/strict";
import { join } from "node:path";
import { bootStart, markFailed, markGood, rollback } from "../../../src/update/boot.ts";
import { UpdateError } from "../../../src/update/errors.ts";
import { splitBundle } from "../../../src/update/create.ts";
import { HEADER_LENGTH } from "../../../src/update/format.ts";
import { installBundle } from "../../../src/update/install.ts";
import { checkSlot, currentSlot } from "../../../src/update/slots.ts";
import { readState } from "../../../src/update/state.ts";
import { makeBundle, makeKeys, NOW } from "./fixture.ts";
import { chunksOf, makeDevice, snapshot, TARGET, trustRoot } from "./device_fixture.ts";

const keys = makeKeys();
const opts = { target: TARGET, now: NOW };

async function refusedInstall(dir: string, bytes: Uint8Array, code: string, extra = {}) {
  const before = snapshot(dir);
  await assert.rejects(
    installBundle(dir, chunksOf(bytes, 333), { ...opts, ...extra }),
    (err: unknown) => err instanceof UpdateError && err.code === code,
  );
  assert.deepEqual(snapshot(dir), before, "nothing on disk changed");
}

Deno.test("install writes the inactive slot, switches current, starts a trial", async () => {
  const dir = await makeDevice(keys);
  try {
    assert.equal(currentSlot(dir), "a");
    const r = await installBundle(dir, chunksOf(makeBundle(keys, "1.1.0")), opts);
    assert.equal(r.slot, "b");
    assert.equal(r.previous, "1.0.0");
    assert.equal(currentSlot(dir), "b");
    assert.deepEqual(checkSlot(dir, "b"), { ok: true, version: "1.1.0" });
    assert.deepEqual(checkSlot(dir, "a"), { ok: true, version: "1.0.0" });
    assert.equal((await Deno.stat(join(dir, "slots/b/bin/branchgate"))).mode! & 0o777, 0o755);
    assert.equal(readState(dir).trial?.triesLeft, 3);
    // While 1.1.0 is on trial, slot a is the fallback: installing over it is refused.
    await refusedInstall(dir, makeBundle(keys, "1.2.0"), "state");
    // Rerunning the same install is a no-op.
    const again = await installBundle(dir, chunksOf(makeBundle(keys, "1.1.0")), opts);
    assert.equal(again.alreadyRunning, true);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("tampered, wrong-target and downgrade installs change nothing on disk", async () => {
  const dir = await makeDevice(keys);
  try {
    const good = makeBundle(keys, "1.1.0");
    const h = splitBundle(good).header;
    const sigAt = HEADER_LENGTH + h.manifestLength;
    const payloadAt = sigAt + h.signatureLength;
    // Header, manifest, signature block (certificate, root signature, release signature), payload.
    const positions = [3, 13, HEADER_LENGTH + 20, sigAt + 10, payloadAt - 70, payloadAt - 1];
    for (const i of [...positions, payloadAt, good.length - 1]) {
      const t = good.slice();
      t[i] = (t[i] as number) ^ 0x04;
      const before = snapshot(dir);
      await assert.rejects(installBundle(dir, chunksOf(t, 333), opts), UpdateError);
      assert.deepEqual(snapshot(dir), before);
    }
    await refusedInstall(dir, good.slice(0, good.length - 5), "format");
    await refusedInstall(dir, makeBundle(keys, "1.1.0", { arch: "aarch64" }), "target");
    await refusedInstall(dir, makeBundle(keys, "0.9.0"), "downgrade");
    await refusedInstall(dir, makeBundle(makeKeys("x"), "1.1.0"), "signature");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the floor rises when a version is marked good and refuses older bundles", async () => {
  const dir = await makeDevice(keys);
  try {
    await installBundle(dir, chunksOf(makeBundle(keys, "2.0.0", { minVersion: "1.5.0" })), opts);
    assert.equal(readState(dir).floor, "0.0.0", "not raised before the health check");
    await bootStart(dir, { now: NOW });
    await markGood(dir);
    assert.equal(readState(dir).floor, "2.0.0", "the version that proved good");
    // Below the floor: refused even when downgrades are allowed.
    await refusedInstall(dir, makeBundle(keys, "1.6.0"), "downgrade", { allowDowngrade: true });
    // Rollback to slot a (1.0.0) is below the floor too.
    await assert.rejects(
      rollback(dir, NOW),
      (e: unknown) => e instanceof UpdateError && e.code === "downgrade",
    );
    // Newer than the floor installs as usual.
    const r = await installBundle(dir, chunksOf(makeBundle(keys, "2.1.0")), opts);
    assert.equal(r.version, "2.1.0");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("revocations in a bundle take effect and are never dropped", async () => {
  const dir = await makeDevice(keys);
  try {
    await installBundle(
      dir,
      chunksOf(makeBundle(keys, "1.1.0", { revokeKeys: [keys.release.keyId] })),
      opts,
    );
    assert.deepEqual(readState(dir).revoked, [keys.release.keyId]);
    await refusedInstall(dir, makeBundle(keys, "1.2.0"), "revoked");
    // A later bundle without the id keeps it on the list.
    await markGood(dir);
    assert.deepEqual(readState(dir).revoked, [keys.release.keyId]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("try-boot counter: three starts without a health check, the fourth falls back", async () => {
  const dir = await makeDevice(keys);
  try {
    await installBundle(dir, chunksOf(makeBundle(keys, "1.1.0")), opts);
    for (const left of [2, 1, 0]) {
      const d = await bootStart(dir, { now: NOW });
      assert.equal(d.slot, "b");
      assert.equal(d.triesLeft, left);
    }
    const d = await bootStart(dir, { now: NOW });
    assert.equal(d.slot, "a");
    assert.match(d.fellBack?.reason ?? "", /try-boot limit/);
    assert.equal(currentSlot(dir), "a");
    const s = readState(dir);
    assert.equal(s.trial, undefined);
    assert.equal(s.good.b, false);
    assert.equal(s.lastFallback?.version, "1.1.0");
    // Later starts stay on a.
    assert.equal((await bootStart(dir, { now: NOW })).slot, "a");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a stale trial (install stopped before the switch) is dropped at start", async () => {
  const dir = await makeDevice(keys);
  try {
    await installBundle(dir, chunksOf(makeBundle(keys, "1.1.0")), opts);
    // Simulate the crash window: current back on a while the trial names b.
    Deno.removeSync(join(dir, "current"));
    Deno.symlinkSync("slots/a", join(dir, "current"));
    const d = await bootStart(dir, { now: NOW });
    assert.equal(d.slot, "a");
    assert.equal(readState(dir).trial, undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a factory image (slot a without a manifest) is updated and fallen back to", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bg-factory-" });
  try {
    Deno.mkdirSync(join(dir, "slots", "a", "bin"), { recursive: true });
    Deno.mkdirSync(join(dir, "slots", "b"));
    Deno.writeTextFileSync(join(dir, "slots", "a", "branchgate.js"), "// factory\n");
    Deno.symlinkSync("slots/a", join(dir, "current"));
    trustRoot(dir, keys);
    const r = await installBundle(dir, chunksOf(makeBundle(keys, "1.0.0")), opts);
    assert.equal(r.slot, "b");
    assert.equal(r.previous, undefined);
    await markFailed(dir, "config does not load");
    assert.equal(currentSlot(dir), "b");
    const d = await bootStart(dir, { now: NOW });
    assert.equal(d.slot, "a");
    assert.equal(d.version, undefined);
    assert.equal(Deno.readTextFileSync(join(dir, "current", "branchgate.js")), "// factory\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a factory image with a VERSION: older bundles are downgrades; mark-good raises the floor to it", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bg-factory-" });
  try {
    Deno.mkdirSync(join(dir, "slots", "a", "bin"), { recursive: true });
    Deno.mkdirSync(join(dir, "slots", "b"));
    Deno.writeTextFileSync(join(dir, "slots", "a", "branchgate.js"), "// factory\n");
    Deno.writeTextFileSync(join(dir, "slots", "a", "VERSION"), "1.3.0\n");
    Deno.symlinkSync("slots/a", join(dir, "current"));
    trustRoot(dir, keys);
    // Signed but older than the factory image: refused without --allow-downgrade.
    await refusedInstall(dir, makeBundle(keys, "1.2.0"), "downgrade");
    assert.equal((await bootStart(dir, { now: NOW })).version, "1.3.0");
    await markGood(dir);
    assert.equal(readState(dir).floor, "1.3.0");
    await refusedInstall(dir, makeBundle(keys, "1.2.0"), "downgrade", { allowDowngrade: true });
    const r = await installBundle(dir, chunksOf(makeBundle(keys, "1.4.0")), opts);
    assert.equal(r.previous, "1.3.0");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
