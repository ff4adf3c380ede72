/**
 * The IKE driver carries out a responder's actions in order: installs before the send that
 * follows them, port-500 sends through the IKE sockets and NAT-T sends through the data path,
 * one timer that calls tick, events into the log, failures logged without key material.
 */

import { MemoryCredentials } from "../../../src/ike/auth/credentials.ts";
import assert from "node:assert/strict";
import type { Endpoint, IkeAction } from "../../../src/ike/actions.ts";
import type { EspSaSpec } from "../../../src/esp/sa_spec.ts";
import { IkeDriver } from "../../../src/daemon/ike_driver.ts";
import { validateTree } from "../../../src/config/parse.ts";
import { Logger } from "../../../src/log.ts";
import { FakeResponder } from "./fake_responder.ts";

const LOCAL: Endpoint = { address: "192.0.2.1", port: 500 };
const NAT_LOCAL: Endpoint = { address: "192.0.2.1", port: 4500 };
const REMOTE: Endpoint = { address: "198.51.100.7", port: 500 };
const KEY = Uint8Array.from({ length: 20 }, (_, i) => 0xa0 + i);

function policy() {
  const r = validateTree({});
  if (!r.ok) throw new Error("empty config");
  return { config: r.config, credentials: new MemoryCredentials() };
}

function spec(spi: number, direction: "in" | "out"): EspSaSpec {
  return {
    spi,
    direction,
    peer: "hq",
    childId: "c1",
    transform: { kind: "aead", alg: "aes128gcm16" },
    keyMaterial: KEY,
    endpoints: { local: "192.0.2.1", remote: "198.51.100.7" },
    localSelectors: [],
    remoteSelectors: [],
    esn: false,
    replayWindow: 64,
    lifetime: { softSeconds: 0, hardSeconds: 0, softBytes: 0, hardBytes: 0 },
  };
}

/** Waits until `cond` holds (generous deadline for a loaded 2-core box). */
async function poll(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

function rig(failInstall = false) {
  const trace: string[] = [];
  const lines: string[] = [];
  const log = Logger.create({
    level: "debug",
    sinks: [{ write: (_l, line) => lines.push(line), close: () => Promise.resolve() }],
  });
  const responder = new FakeResponder(policy());
  let clock = 1000;
  const driver = new IkeDriver({
    responder,
    log,
    natPort: 4500,
    now: () => clock,
    dataPath: {
      async installSa(s) {
        await new Promise((r) => setTimeout(r, 5));
        if (failInstall) throw new Error(`SA ${s.spi.toString(16)} refused`);
        trace.push(`install ${s.direction} ${s.spi}`);
      },
      deleteSa(spi, dir) {
        trace.push(`delete ${dir} ${spi}`);
        return Promise.resolve(true);
      },
      sendIke(d, local) {
        trace.push(`natt ${local.port} ${d.length}`);
      },
    },
    ike: {
      send(d, local) {
        if (local.address !== "192.0.2.1") return false;
        trace.push(`ike ${local.port} ${d.length}`);
        return true;
      },
    },
  });
  return { trace, lines, responder, driver, advance: (ms: number) => clock += ms };
}

Deno.test("actions run in order: both installs finish before the send after them", async () => {
  const { trace, responder, driver } = rig();
  responder.onHandle = (): IkeAction[] => [
    { kind: "installSa", spec: spec(0x100, "in") },
    { kind: "installSa", spec: spec(0x200, "out") },
    { kind: "send", datagram: new Uint8Array(28), local: LOCAL, remote: REMOTE },
    { kind: "send", datagram: new Uint8Array(40), local: NAT_LOCAL, remote: REMOTE },
  ];
  driver.datagram(new Uint8Array(28), LOCAL, REMOTE);
  driver.datagram(new Uint8Array(28), LOCAL, REMOTE);
  await driver.idle();
  assert.deepEqual(trace, [
    "install in 256",
    "install out 512",
    "ike 500 28",
    "natt 4500 40",
    "install in 256",
    "install out 512",
    "ike 500 28",
    "natt 4500 40",
  ]);
  assert.equal(driver.stats.received, 2);
  assert.equal(driver.stats.sent, 4);
  driver.stop();
});

Deno.test("a timer action makes the driver call tick once, and a later one replaces it", async () => {
  const { trace, responder, driver } = rig();
  responder.onHandle = (_d, _l, _r, now): IkeAction[] => [
    { kind: "timer", at: now + 10_000 },
    { kind: "timer", at: now + 20 },
  ];
  responder.onTick = (): IkeAction[] => [
    { kind: "deleteSa", spi: 0x100, direction: "in", peer: "hq" },
  ];
  driver.datagram(new Uint8Array(28), LOCAL, REMOTE);
  await driver.idle();
  // Poll for the tick (a loaded box may run the 20 ms timer late), then give a wrongly kept
  // 10 s timer no chance to matter: only one tick, ever.
  await poll(() => responder.calls.some((c) => c.op === "tick"));
  await driver.idle();
  assert.equal(responder.calls.filter((c) => c.op === "tick").length, 1);
  assert.deepEqual(trace, ["delete in 256"]);
  driver.stop();
});

Deno.test("a deadline moved later keeps the earlier timer, which only re-arms: one tick, at the later one", async () => {
  const { trace, responder, driver } = rig();
  // The rig's clock stands still: the timers' real delays are the deadlines' distances.
  responder.onHandle = (_d, _l, _r, now): IkeAction[] => [
    { kind: "timer", at: now + 20 },
    { kind: "timer", at: now + 150 },
  ];
  const t0 = performance.now();
  let tickedAt = 0;
  responder.onTick = (): IkeAction[] => {
    tickedAt = performance.now();
    return [{ kind: "deleteSa", spi: 0x100, direction: "in", peer: "hq" }];
  };
  driver.datagram(new Uint8Array(28), LOCAL, REMOTE);
  await driver.idle();
  await poll(() => responder.calls.some((c) => c.op === "tick"));
  await driver.idle();
  assert.equal(responder.calls.filter((c) => c.op === "tick").length, 1);
  assert.ok(tickedAt >= t0 + 150, `ticked ${tickedAt - t0} ms after the deadline was set`);
  assert.deepEqual(trace, ["delete in 256"]);
  driver.stop();
});

Deno.test("events are logged with the peer; failures are counted and logged without keys", async () => {
  const { lines, responder, driver } = rig(true);
  responder.onHandle = (): IkeAction[] => [
    {
      kind: "event",
      level: "warn",
      peer: "hq",
      message: "no proposal chosen",
      fields: { offered: "aes128-sha1-modp1024" },
    },
    { kind: "installSa", spec: spec(0x300, "in") },
    {
      kind: "send",
      datagram: new Uint8Array(28),
      local: { address: "203.0.113.9", port: 500 },
      remote: REMOTE,
    },
  ];
  driver.datagram(new Uint8Array(28), LOCAL, REMOTE);
  await driver.idle();
  const text = lines.join("\n");
  assert.match(text, /level=warn comp=main msg="no proposal chosen" peer=hq offered=aes128/);
  assert.match(
    text,
    /msg="ESP SA install failed; the child SA is deleted and the peer told" peer=hq spi=00000300 dir=in/,
  );
  assert.match(text, /no IKE socket for the local address/);
  const hex = [...KEY].map((b) => b.toString(16).padStart(2, "0")).join("");
  assert.ok(!text.includes(hex) && !text.includes(KEY.join(",")));
  assert.equal(driver.stats.installFailures, 1);
  assert.equal(driver.stats.sendFailures, 1);
  // The failure went back to IKE as the SA's end, so the child is deleted and the peer told.
  await poll(() => responder.calls.some((c) => c.op === "lifetime"));
  const fed = responder.calls.find((c) => c.op === "lifetime");
  assert.deepEqual(fed?.op === "lifetime" && fed.event, {
    kind: "hard",
    spi: 0x300,
    direction: "in",
    childId: "c1",
  });
  driver.stop();
});

Deno.test("a responder that throws is logged, and later input still runs", async () => {
  const { lines, trace, responder, driver } = rig();
  let first = true;
  responder.onHandle = (): IkeAction[] => {
    if (first) {
      first = false;
      throw new Error("bug");
    }
    return [{ kind: "send", datagram: new Uint8Array(8), local: LOCAL, remote: REMOTE }];
  };
  driver.datagram(new Uint8Array(28), LOCAL, REMOTE);
  driver.datagram(new Uint8Array(28), LOCAL, REMOTE);
  await driver.idle();
  assert.match(lines.join("\n"), /IKE responder failed on input/);
  assert.deepEqual(trace, ["ike 500 8"]);
  driver.stop();
  driver.datagram(new Uint8Array(28), LOCAL, REMOTE);
  await driver.idle();
  assert.equal(responder.calls.length, 2, "input after stop is ignored");
});
