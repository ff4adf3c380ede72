/**
 * The IKEv1 initiator rekeying its child against this project's responder, with both sides'
 * install/delete actions fed into real SA databases: the new outbound SA waits on standby
 * (the old pair carries the traffic) until the hub's first packet on the new pair, or until
 * the fallback delay after message 3, which a repeated message 2 (message 3 lost) restarts.
 */

import assert from "node:assert/strict";
import { getCrypto } from "../../src/crypto/registry.ts";
import { MAX_ESP_HEADER, MAX_ESP_TRAILER, SaDatabase } from "../../src/esp/sad.ts";
import type { IkeAction, SendAction } from "../../src/ike/actions.ts";
import { ACTIVATE_AFTER_MS } from "../../src/ike/v1/quick_mode_initiator.ts";
import { udp4 } from "../fakes/packets.ts";
import { branchPolicy, HUB_IP, hubPolicy, installs, Wire } from "./pair/wire.ts";

/** Applies one side's SA actions to a database the way the pump does (re-install = activate). */
function apply(db: SaDatabase, actions: readonly IkeAction[], now: number): void {
  for (const a of actions) {
    if (a.kind === "deleteSa") db.remove(a.spi, a.direction);
    if (a.kind !== "installSa") continue;
    const s = a.spec;
    if (s.direction === "out" && s.activateOn === undefined && db.activate(s.spi)) continue;
    db.install(s, now);
  }
}

/** One packet from `src` to `dst` out of `from`: the SPI it left on, and whether `to` took it. */
function send(from: SaDatabase, to: SaDatabase, src: string, dst: string) {
  const p = udp4(src, dst, { payload: 32 });
  const buf = new Uint8Array(MAX_ESP_HEADER + p.length + MAX_ESP_TRAILER);
  buf.set(p, MAX_ESP_HEADER);
  const r = from.encapsulate(buf, MAX_ESP_HEADER, p.length);
  assert.ok(r !== undefined, "no outbound SA");
  return { spi: r.spec.spi, got: to.decapsulate(buf, r.offset, r.length) !== undefined };
}

const TO_HUB = ["10.2.0.5", "10.1.0.7"] as const;
const TO_BRANCH = ["10.1.0.7", "10.2.0.5"] as const;

/** A dialled pair whose child the branch rekeys at its soft lifetime, with both data paths. */
function rekeyed() {
  const w = new Wire(branchPolicy({ esp_lifetime: 600, rekey_margin: 120 }), hubPolicy());
  w.dial();
  const branch = new SaDatabase(getCrypto());
  const hub = new SaDatabase(getCrypto());
  apply(branch, w.branch.log, w.now);
  apply(hub, w.hub.log, w.now);
  const old = installs(w.branch.log).find((s) => s.direction === "out")!;
  assert.equal(old.activateOn, undefined, "a first child's outbound SA is in service at once");
  assert.equal(send(branch, hub, ...TO_HUB).spi, old.spi);
  const marks = { branch: w.branch.log.length, hub: w.hub.log.length };
  w.now += old.lifetime.softSeconds * 1000;
  const soft = {
    kind: "soft" as const,
    childId: old.childId,
    spi: old.spi,
    direction: "out" as const,
  };
  w.run("branch", w.branch.engine.espLifetime(soft, w.now));
  apply(branch, w.branch.log.slice(marks.branch), w.now);
  apply(hub, w.hub.log.slice(marks.hub), w.now);
  const fresh = installs(w.branch.log.slice(marks.branch));
  const newIn = fresh.find((s) => s.direction === "in")!;
  const newOut = fresh.find((s) => s.direction === "out")!;
  const m2 = w.hub.log.slice(marks.hub).find((a): a is SendAction => a.kind === "send")!;
  return { w, branch, hub, old, newIn, newOut, m2, rekeyedAt: w.now };
}

Deno.test("initiator rekey: the new outbound SA waits on standby until the hub sends on the new pair", () => {
  const { w, branch, hub, old, newIn, newOut } = rekeyed();
  assert.equal(newOut.activateOn, newIn.spi, "standby on its inbound partner");
  // Both new SAs exist, yet the branch still sends on the old pair (the hub might not have
  // the new one yet).
  assert.equal(send(branch, hub, ...TO_HUB).spi, old.spi);
  // The hub got message 3 and sends on the new pair: the branch switches at once.
  const fromHub = send(hub, branch, ...TO_BRANCH);
  assert.equal(fromHub.spi, newIn.spi);
  assert.ok(fromHub.got);
  const after = send(branch, hub, ...TO_HUB);
  assert.deepEqual(after, { spi: newOut.spi, got: true });
  // The fallback later finds it in service: nothing changes.
  const mark = w.branch.log.length;
  w.advance(w.now + ACTIVATE_AFTER_MS);
  const again = installs(w.branch.log.slice(mark));
  assert.deepEqual(again.map((s) => [s.spi, s.activateOn]), [[newOut.spi, undefined]]);
  apply(branch, w.branch.log.slice(mark), w.now);
  assert.deepEqual(send(branch, hub, ...TO_HUB), { spi: newOut.spi, got: true });
});

Deno.test("initiator rekey: with no packet from the hub, the fallback puts it into service after message 3", () => {
  const { w, branch, hub, old, newOut, rekeyedAt } = rekeyed();
  const mark = w.branch.log.length;
  w.advance(rekeyedAt + ACTIVATE_AFTER_MS - 1);
  assert.equal(installs(w.branch.log.slice(mark)).length, 0, "still on standby");
  assert.equal(send(branch, hub, ...TO_HUB).spi, old.spi);
  w.advance(rekeyedAt + ACTIVATE_AFTER_MS);
  const put = installs(w.branch.log.slice(mark));
  assert.deepEqual(put.map((s) => [s.spi, s.activateOn]), [[newOut.spi, undefined]]);
  apply(branch, w.branch.log.slice(mark), w.now);
  assert.deepEqual(send(branch, hub, ...TO_HUB), { spi: newOut.spi, got: true });
  assert.equal(branch.size.out, 2, "the old outbound SA stays (make-before-break)");
});

Deno.test("initiator rekey: a repeated message 2 (message 3 lost) restarts the fallback delay", () => {
  const { w, branch, hub, old, newOut, m2, rekeyedAt } = rekeyed();
  const mark = w.branch.log.length;
  w.now = rekeyedAt + ACTIVATE_AFTER_MS / 2;
  const resent = w.branch.engine.handle(
    m2.datagram,
    m2.remote,
    { address: HUB_IP, port: 500 },
    w.now,
  );
  assert.equal(resent.filter((a) => a.kind === "send").length, 1, "message 3 again");
  w.run("branch", resent);
  w.advance(rekeyedAt + ACTIVATE_AFTER_MS);
  assert.equal(installs(w.branch.log.slice(mark)).length, 0, "the delay restarted");
  assert.equal(send(branch, hub, ...TO_HUB).spi, old.spi);
  w.advance(w.now + ACTIVATE_AFTER_MS / 2);
  const put = installs(w.branch.log.slice(mark));
  assert.deepEqual(put.map((s) => [s.spi, s.activateOn]), [[newOut.spi, undefined]]);
});

Deno.test("initiator rekey: a child gone while on standby is not brought back by the fallback", () => {
  const { w, newIn, newOut, rekeyedAt } = rekeyed();
  const mark = w.branch.log.length;
  // The data path dropped the new inbound SA (hard lifetime): the child goes, both directions.
  const hard = {
    kind: "hard" as const,
    childId: newIn.childId,
    spi: newIn.spi,
    direction: "in" as const,
  };
  w.run("branch", w.branch.engine.espLifetime(hard, w.now));
  assert.ok(!w.branch.sas.has(`out:${newOut.spi}`), "the standby SA went with its child");
  w.advance(rekeyedAt + 2 * ACTIVATE_AFTER_MS);
  assert.equal(installs(w.branch.log.slice(mark)).length, 0, "nothing re-installed");
});
