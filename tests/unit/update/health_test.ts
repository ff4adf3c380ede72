import assert from "node:assert/strict";
import { bootStart } from "../../../src/update/boot.ts";
import { peersNotUp } from "../../../src/update/daemon_health.ts";
import { type HealthChecks, recordHealth, runHealthCheck } from "../../../src/update/health.ts";
import { installBundle } from "../../../src/update/install.ts";
import { currentSlot } from "../../../src/update/slots.ts";
import { readState } from "../../../src/update/state.ts";
import { chunksOf, makeDevice, TARGET } from "./device_fixture.ts";
import { makeBundle, makeKeys, NOW } from "./fixture.ts";

const keys = makeKeys();

/** Fake checks: tunnels come up after `upAfter` polls; a clock advanced by the fake sleep. */
function fake(o: { selftest?: string; config?: string; upAfter?: number; throws?: boolean }) {
  let t = 0;
  let polls = 0;
  const checks: HealthChecks = {
    selftest: () => Promise.resolve(o.selftest),
    configLoads: () =>
      o.throws ? Promise.reject(new Error("store unreadable")) : Promise.resolve(o.config),
    tunnelsDown: () => Promise.resolve(polls++ < (o.upAfter ?? 0) ? ["hq", "dc2"] : []),
  };
  const timing = {
    timeoutMs: 10_000,
    pollMs: 1000,
    clock: () => t,
    sleep: (ms: number) => {
      t += ms;
      return Promise.resolve();
    },
  };
  return { checks, timing, polls: () => polls };
}

Deno.test("health: each check can fail it; tunnels are polled until up or the timeout", async () => {
  const ok = fake({ upAfter: 3 });
  assert.deepEqual(await runHealthCheck(ok.checks, ok.timing), { ok: true });
  assert.equal(ok.polls(), 4);
  const slow = fake({ upAfter: 100 });
  const r = await runHealthCheck(slow.checks, slow.timing);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : "", /tunnels not up within 10 s: hq, dc2/);
  assert.equal(slow.polls(), 11);
  const st = fake({ selftest: "no passing backend for aes-gcm" });
  assert.match(
    (await runHealthCheck(st.checks, st.timing) as { reason: string }).reason,
    /^self-test/,
  );
  const cf = fake({ config: "peer[0].remote missing" });
  assert.match(
    (await runHealthCheck(cf.checks, cf.timing) as { reason: string }).reason,
    /^config/,
  );
  const th = fake({ throws: true });
  assert.match(
    (await runHealthCheck(th.checks, th.timing) as { reason: string }).reason,
    /store unreadable/,
  );
});

Deno.test("a failing health check rolls back on the next start, with the reason", async () => {
  const dir = await makeDevice(keys);
  try {
    await installBundle(dir, chunksOf(makeBundle(keys, "1.1.0")), { target: TARGET, now: NOW });
    assert.equal((await bootStart(dir, { now: NOW })).slot, "b");
    const f = fake({ upAfter: 100 });
    const r = await runHealthCheck(f.checks, f.timing);
    assert.equal(await recordHealth(dir, r), "will-fall-back");
    assert.equal(currentSlot(dir), "b", "nothing switches until the next start");
    const d = await bootStart(dir, { now: NOW });
    assert.equal(d.slot, "a");
    assert.equal(currentSlot(dir), "a");
    assert.match(d.fellBack?.reason ?? "", /health check failed: tunnels not up/);
    assert.match(readState(dir).lastFallback?.reason ?? "", /tunnels not up/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a passing health check marks the slot good and later starts stay on it", async () => {
  const dir = await makeDevice(keys);
  try {
    await installBundle(dir, chunksOf(makeBundle(keys, "1.1.0")), { target: TARGET, now: NOW });
    await bootStart(dir, { now: NOW });
    const f = fake({ upAfter: 2 });
    assert.equal(await recordHealth(dir, await runHealthCheck(f.checks, f.timing)), "marked-good");
    const s = readState(dir);
    assert.equal(s.trial, undefined);
    assert.equal(s.good.b, true);
    for (let i = 0; i < 5; i++) assert.equal((await bootStart(dir, { now: NOW })).slot, "b");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("show peers output: peers not up are named", () => {
  const lines = [
    "peer  remote        mode  state       ike  esp  detail",
    "hq    198.51.100.1  main  up          1    2    since 3m",
    "dc2   203.0.113.9   main  connecting  0    0    retransmit 2",
    "lab   %any          aggressive  down  0    0",
  ];
  assert.deepEqual(peersNotUp(lines), ["dc2", "lab"]);
  assert.deepEqual(peersNotUp(["no peers configured"]), []);
  assert.throws(() => peersNotUp(["garbage"]));
});
