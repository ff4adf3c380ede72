/**
 * Flood bounds of the IKEv1 responder (sans-I/O): half-open Phase 1 SAs per source address
 * (strongSwan's block_threshold), a total for sources that are no configured peer, a configured
 * peer's address keeping its slot against spoofers, established SAs not counting; message 1
 * size cap; Aggressive Mode rate; unauthenticated drops at debug with per-reason counters and
 * one summary line per interval; no answer larger than the question to unknown sources;
 * `show peers` failure reasons only for configured peers.
 */

import assert from "node:assert/strict";
import type { IkeAction } from "../../src/ike/actions.ts";
import { IkeV1Responder } from "../../src/ike/responder.ts";
import { DROP_SUMMARY_MS } from "../../src/ike/drops.ts";
import { HALF_OPEN_PER_SOURCE, MAX_HALF_OPEN } from "../../src/ike/v1/half_open.ts";
import { BRANCH, GW, mainMode, policy, PSK, sends, setup } from "./initiator/p1_harness.ts";
import { type Ep, Phase1Initiator } from "./initiator/phase1.ts";

const ROAM = {
  name: "roam",
  remote: "%any",
  psk: "a key for roaming users",
  ike_proposals: ["aes128-sha256-modp2048"],
  esp_proposals: ["aes128gcm16"],
  local_ts: ["10.1.0.0/16"],
  remote_ts: ["10.9.0.0/16"],
};

let template: Uint8Array | undefined;
let serial = 0;
/** A Main Mode message 1 with a fresh initiator cookie (one template, cookie patched). */
function mm1(from: Ep): Uint8Array {
  template ??= new Phase1Initiator({ psk: PSK, self: from, responder: GW }).mm1();
  const d = template.slice();
  new DataView(d.buffer).setUint32(4, ++serial);
  return d;
}

function events(actions: readonly IkeAction[]) {
  return actions.flatMap((a) => a.kind === "event" ? [a] : []);
}

function halfOpen(r: IkeV1Responder, now: number): number {
  return r.ikeSas(now).filter((s) => s.state !== "ESTABLISHED").length;
}

Deno.test("half-open: at most HALF_OPEN_PER_SOURCE per source; other sources still get in", () => {
  const r = new IkeV1Responder(policy({}, [ROAM]));
  const now = 1_000_000;
  const spoofed = { address: "203.0.113.50", port: 500 };
  for (let i = 0; i < HALF_OPEN_PER_SOURCE + 20; i++) r.handle(mm1(spoofed), GW, spoofed, now);
  assert.equal(halfOpen(r, now), HALF_OPEN_PER_SOURCE);
  assert.equal(r.drops().get("half-open-per-source"), 20);
  const other = { address: "203.0.113.51", port: 500 };
  assert.equal(sends(r.handle(mm1(other), GW, other, now)).length, 1);
  assert.equal(halfOpen(r, now), HALF_OPEN_PER_SOURCE + 1);
});

Deno.test("half-open: the total cap holds for random sources; the configured peer still gets in", () => {
  const r = new IkeV1Responder(policy({}, [ROAM]));
  const now = 1_000_000;
  for (let i = 0; i < MAX_HALF_OPEN + 100; i++) {
    const ep = { address: `198.51.100.${i % 250}`, port: 1000 + i };
    r.handle(mm1(ep), GW, ep, now);
  }
  assert.equal(halfOpen(r, now), MAX_HALF_OPEN);
  assert.ok((r.drops().get("half-open-total") ?? 0) >= 100);
  const s = setup(policy({}, [ROAM]));
  // The real peer (its configured address) is admitted past the total and completes.
  const s2 = { ...s, r };
  mainMode(s2);
  assert.equal(r.ikeSas(now).filter((x) => x.state === "ESTABLISHED").length, 1);
});

Deno.test("half-open: someone spoofing the configured peer's address cannot lock it out", () => {
  const s = setup();
  for (let i = 0; i < 50; i++) s.r.handle(mm1(BRANCH), GW, BRANCH, s.now);
  assert.equal(halfOpen(s.r as IkeV1Responder, s.now), HALF_OPEN_PER_SOURCE);
  const act = mainMode(s); // evicts the oldest unanswered message 1 and completes
  assert.equal(sends(act).length, 1);
  assert.equal(s.r.ikeSas(s.now).filter((x) => x.state === "ESTABLISHED").length, 1);
});

Deno.test("half-open: established SAs leave the half-open count", () => {
  const s = setup(policy({}, [ROAM]));
  mainMode(s);
  // The established SA's source can still open HALF_OPEN_PER_SOURCE more.
  for (let i = 0; i < HALF_OPEN_PER_SOURCE; i++) {
    assert.equal(sends(s.r.handle(mm1(BRANCH), GW, BRANCH, s.now)).length, 1);
  }
  assert.equal((s.r as IkeV1Responder).drops().get("half-open-per-source"), undefined);
});

Deno.test("message 1 above MAX_MESSAGE_1 is dropped unanswered; junk is not answered with more bytes", () => {
  const r = new IkeV1Responder(policy({}, [ROAM]));
  const now = 1_000_000;
  const ep = { address: "203.0.113.60", port: 500 };
  const big = new Uint8Array(5000);
  big.set(mm1(ep).subarray(0, 28));
  new DataView(big.buffer).setUint32(24, big.length);
  assert.equal(sends(r.handle(big, GW, ep, now)).length, 0);
  assert.equal(r.drops().get("oversize"), 1);
  // A bare header (28 bytes) of Main Mode with no SA payload: the PAYLOAD_MALFORMED notify
  // would be larger than the datagram, so nothing is sent.
  const bare = mm1(ep).slice(0, 28);
  bare[16] = 0; // next payload: none
  new DataView(bare.buffer).setUint32(24, 28);
  const act = r.handle(bare, GW, ep, now);
  for (const x of sends(act)) assert.ok(x.datagram.length <= bare.length);
});

Deno.test("drops log at debug; one summary line per interval; counters by reason", () => {
  const r = new IkeV1Responder(policy());
  const now = 1_000_000;
  const ep = { address: "203.0.113.70", port: 500 };
  const all: IkeAction[] = [];
  for (let i = 0; i < 1000; i++) all.push(...r.handle(mm1(ep), GW, ep, now + i));
  for (let i = 0; i < 1000; i++) all.push(...r.handle(new Uint8Array(10), GW, ep, now + i));
  assert.ok(events(all).every((e) => e.level === "debug"), "no line above debug per datagram");
  assert.equal(r.drops().get("no-peer"), 1000);
  assert.equal(r.drops().get("undecodable"), 1000);
  assert.equal(sends(all).length, 0, "nothing sent to an unknown source");
  const timers = all.flatMap((a) => a.kind === "timer" ? [a.at] : []);
  assert.equal(timers.at(-1), now + DROP_SUMMARY_MS);
  const t1 = events(r.tick(now + DROP_SUMMARY_MS)).filter((e) => e.level !== "debug");
  assert.equal(t1.length, 1);
  assert.match(t1[0]!.message, /2000 unauthenticated IKE datagrams dropped/);
  assert.equal(t1[0]!.fields["no_peer"], 1000);
  assert.equal(events(r.tick(now + 2 * DROP_SUMMARY_MS)).length, 0, "nothing new, no line");
  assert.deepEqual(r.peerStates(now).map((p) => p.name), ["branch1"]);
});

Deno.test("Aggressive Mode message 1 is rate-limited (a DH before return routability)", () => {
  const cfg = policy({ mode: "aggressive", remote: "%any", remote_id: "branch1.example" });
  const r = new IkeV1Responder(cfg);
  const now = 1_000_000;
  let answered = 0;
  for (let i = 0; i < 100; i++) {
    const ep = { address: `198.51.100.${i}`, port: 500 };
    const ini = new Phase1Initiator({
      psk: PSK,
      self: ep,
      responder: GW,
      id: { type: 2, data: new TextEncoder().encode("branch1.example") },
    });
    answered += sends(r.handle(ini.am1(), GW, ep, now)).length;
  }
  assert.ok(answered >= 10 && answered <= 25, `answered ${answered}`);
  assert.ok((r.drops().get("aggressive-rate") ?? 0) >= 75);
});

Deno.test("a half-open SA keeps a digest of message 1, not a copy; a retransmission is still answered", () => {
  const s = setup();
  const m1 = s.i.mm1();
  const first = sends(s.r.handle(m1, GW, BRANCH, s.now));
  const again = sends(s.r.handle(m1, GW, BRANCH, s.now + 1000));
  assert.equal(again.length, 1);
  assert.deepEqual(again[0]!.datagram, first[0]!.datagram);
  const changed = m1.slice();
  changed[changed.length - 1]! ^= 1;
  assert.equal(sends(s.r.handle(changed, GW, BRANCH, s.now + 2000)).length, 0);
});
