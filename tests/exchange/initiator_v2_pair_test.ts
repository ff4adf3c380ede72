/**
 * The IKEv2 initiator against this project's own IKEv2 responder, in one process (both full
 * engines, fake clock, seeded SPIs and nonces): IKE_SA_INIT + IKE_AUTH with PSK and with
 * certificates, both sides' ESP SAs agreeing on SPIs, transforms and keys, the IKE SA's SPIs
 * the same in both `show ike sa`; INVALID_KE_PAYLOAD and COOKIE round trips; retransmission
 * through loss and the bounded give-up; refusals (AUTHENTICATION_FAILED, NO_PROPOSAL_CHOSEN,
 * TS_UNACCEPTABLE) reported as failed attempts; narrowed selectors; NAT-T float; loss of the
 * tunnel (dead peer, Delete from the peer) reported as "down".
 */

import assert from "node:assert/strict";
import type { IkePolicy, SendAction } from "../../src/ike/actions.ts";
import { MemoryCredentials } from "../../src/ike/auth/credentials.ts";
import { RETRANSMIT_GIVE_UP_MS } from "../../src/ike/initiator/retransmit.ts";
import { decodeV2Message, encodeV2Message } from "../../src/ike/message/v2/message.ts";
import { notify } from "../../src/ike/v2/context.ts";
import { ExchangeTypeV2, NotifyTypeV2 } from "../../src/ike/message/v2/registry.ts";
import { DAY, issue, makeCa, NOW } from "../unit/pki/fixture.ts";
import { certBranchPeer, certHubPeer, pubkeyPolicy } from "./pair/pki.ts";
import { seededRng } from "./initiator_v2/harness.ts";
import { v2Pair } from "./pair/v2.ts";
import { mutateBytes } from "./mutate.ts";
import {
  BRANCH_IP,
  branchPolicy,
  connections,
  HUB_IP,
  hubPolicy,
  lines,
  matchedPairs,
  policyOf,
  Wire,
} from "./pair/wire.ts";

const V2 = { ike_version: 2 };

/** Both sides' full engines with seeded randomness; the hub's COOKIE threshold as given. */
function pair(branch: IkePolicy, hub: IkePolicy, cookieThreshold?: number): Wire {
  return v2Pair("initiator v2 pair", branch, hub, {
    ...(cookieThreshold === undefined ? {} : { hub: { cookieThreshold } }),
  });
}

const psk = (b: Record<string, unknown> = {}, h: Record<string, unknown> = {}, cookie?: number) =>
  pair(branchPolicy({ ...V2, ...b }), hubPolicy({ ...V2, ...h }), cookie);

/** The IKEv2 requests of `exchange` the branch sent. */
function sent(w: Wire, exchange: number): SendAction[] {
  return w.branch.log.filter((a): a is SendAction => {
    if (a.kind !== "send") return false;
    const m = decodeV2Message(a.datagram);
    return m.ok && m.value.header.exchangeType === exchange && (m.value.header.flags & 0x20) === 0;
  });
}

const events = (w: Wire) => connections(w.branch.log).map((c) => `${c.event}:${c.reason}`);

function assertUp(w: Wire): void {
  const why = lines(w.branch.log).concat(["--- hub"], lines(w.hub.log)).join("\n");
  assert.deepEqual(events(w), ["up:"], why);
  assert.equal(matchedPairs(w.branch, w.hub), 1, why);
  assert.equal(matchedPairs(w.hub, w.branch), 1, why);
  const b = w.branch.engine.ikeSas(w.now);
  const h = w.hub.engine.ikeSas(w.now);
  assert.equal(b.length, 1);
  assert.equal(h.length, 1);
  assert.equal(b[0]!.state, "ESTABLISHED");
  assert.equal(h[0]!.state, "ESTABLISHED");
  assert.equal(b[0]!.spis, h[0]!.spis, "the same IKE SA on both sides");
  assert.equal(b[0]!.algorithms, h[0]!.algorithms);
  assert.equal(w.branch.engine.peerStates(w.now)[0]?.state, "up");
  assert.equal(w.hub.engine.peerStates(w.now)[0]?.state, "up");
}

Deno.test("IKEv2 initiator with PSK: up, ESP SAs and IKE SA agree on both sides", () => {
  const w = psk();
  w.dial();
  assertUp(w);
  assert.equal(sent(w, ExchangeTypeV2.IKE_SA_INIT).length, 2, "KE modp3072 refused once");
  const out = [...w.branch.sas.values()].find((s) => s.direction === "out")!;
  assert.deepEqual(out.transform, { kind: "aead", alg: "aes128gcm16" });
  assert.equal(out.localSelectors[0]!.startAddress, "10.2.0.0");
  assert.equal(out.remoteSelectors[0]!.startAddress, "10.1.0.0");
  assert.equal(out.endpoints.encap, undefined, "no NAT: plain ESP");
  assert.equal(w.branch.engine.ikeSas(w.now)[0]!.algorithms, "aes128-sha256-prfsha256-modp2048");
  // RFC 7296 §3.1: the original initiator sets the I flag; its peer does not.
  const auth = sent(w, ExchangeTypeV2.IKE_AUTH)[0]!;
  assert.equal(auth.datagram[19]! & 0x08, 0x08);
  assert.equal(auth.local.port, 500);
});

Deno.test("IKEv2 INVALID_KE_PAYLOAD: retried with the group asked for, or failed if not offered", () => {
  const w = psk({ ike_proposals: ["aes128-sha256-modp3072", "aes128-sha256-ecp256"] }, {
    ike_proposals: ["aes128-sha256-ecp256"],
  });
  w.dial();
  assertUp(w);
  const inits = sent(w, ExchangeTypeV2.IKE_SA_INIT).map((s) => decodeV2Message(s.datagram));
  const groups = inits.map((m) =>
    m.ok ? m.value.payloads.find((p) => p.kind === "ke")?.group : undefined
  );
  assert.deepEqual(groups, [15, 19]);
  const spis = inits.map((m) => (m.ok ? Array.from(m.value.header.spiI).join() : ""));
  assert.equal(spis[0], spis[1], "RFC 7296 §2.6.1: the same SPIi through the retry");
  assert.ok(lines(w.branch.log).some((l) => l.includes("INVALID_KE_PAYLOAD: retrying")));

  // A responder asking for a group we do not offer (scripted answer).
  const x = psk({ ike_proposals: ["aes128-sha256-modp3072"] });
  x.drop = (_s, from) => from === "branch";
  x.dial();
  const req = sent(x, ExchangeTypeV2.IKE_SA_INIT)[0]!;
  const answer = encodeV2Message({
    spiI: req.datagram.slice(0, 8),
    spiR: new Uint8Array(8),
    exchangeType: ExchangeTypeV2.IKE_SA_INIT,
    flags: 0x20,
    messageId: 0,
  }, [notify(NotifyTypeV2.INVALID_KE_PAYLOAD, Uint8Array.of(0, 19))]);
  x.run("branch", x.branch.engine.handle(answer, req.local, req.remote, x.now));
  // RFC 7296 §2.21.1: unauthenticated, so only noted until the attempt is given up.
  assert.deepEqual(events(x), []);
  x.advance(x.now + RETRANSMIT_GIVE_UP_MS);
  assert.deepEqual(events(x), [
    "failed:the peer wants DH group ecp256, which we do not offer",
  ]);
  assert.equal(x.branch.sas.size, 0);
  assert.equal(x.branch.engine.peerStates(x.now)[0]?.state, "down");
});

Deno.test("IKEv2 a forged error answer to IKE_SA_INIT does not end the attempt (§2.21.1)", () => {
  const w = psk();
  let forged = false;
  w.drop = (s, from) => {
    if (forged || from !== "hub" || s.datagram[18] !== ExchangeTypeV2.IKE_SA_INIT) return false;
    forged = true;
    const fake = encodeV2Message({
      spiI: s.datagram.slice(0, 8),
      spiR: new Uint8Array(8),
      exchangeType: ExchangeTypeV2.IKE_SA_INIT,
      flags: 0x20,
      messageId: 0,
    }, [notify(NotifyTypeV2.NO_PROPOSAL_CHOSEN)]);
    w.run("branch", w.branch.engine.handle(fake, s.remote, s.local, w.now));
    return false;
  };
  w.dial();
  assertUp(w);
  assert.ok(lines(w.branch.log).some((l) => l.includes("NO_PROPOSAL_CHOSEN")));
});

Deno.test("IKEv2 COOKIE: the request is repeated with the cookie first, also through INVALID_KE", () => {
  const w = psk({}, {}, 0);
  w.dial();
  assertUp(w);
  const inits = sent(w, ExchangeTypeV2.IKE_SA_INIT).map((s) => decodeV2Message(s.datagram));
  // COOKIE, then INVALID_KE_PAYLOAD (modp3072 → modp2048) with the cookie kept (§2.6.1).
  assert.equal(inits.length, 3);
  const first = inits.map((m) => {
    const p = m.ok ? m.value.payloads[0] : undefined;
    return p?.kind === "n" ? p.notifyType : p?.kind;
  });
  assert.deepEqual(first, ["sa", NotifyTypeV2.COOKIE, NotifyTypeV2.COOKIE]);
});

Deno.test("IKEv2 retransmission: lost messages resent 1, 2, 4 s apart; silence gives up at 31 s", () => {
  const w = psk();
  const seen = new Set<string>();
  let dropped = 0;
  w.drop = (s) => {
    const k = Array.from(s.datagram.subarray(0, 28)).join(",");
    if (seen.has(k)) return false;
    seen.add(k);
    dropped++;
    return true;
  };
  w.dial();
  assert.equal(connections(w.branch.log).length, 0);
  w.advance(w.now + 20_000);
  assertUp(w);
  assert.ok(dropped >= 4, `dropped ${dropped}`);

  const dead = psk();
  dead.drop = (_s, from) => from === "branch";
  const t0 = dead.now;
  dead.dial();
  dead.advance(t0 + RETRANSMIT_GIVE_UP_MS - 1);
  assert.equal(connections(dead.branch.log).length, 0);
  const times: number[] = [];
  let last = -1;
  for (const a of dead.branch.log) if (a.kind === "timer") last = a.at;
  assert.ok(last > 0);
  dead.advance(t0 + RETRANSMIT_GIVE_UP_MS);
  assert.deepEqual(events(dead), ["failed:no answer to IKE_SA_INIT"]);
  for (const s of sent(dead, ExchangeTypeV2.IKE_SA_INIT)) times.push(s.datagram.length);
  assert.equal(times.length, 5, "first send and 4 retransmissions");
  assert.equal(dead.branch.engine.peerStates(dead.now)[0]?.detail, "no answer to IKE_SA_INIT");

  // The IKE_AUTH answer never arrives: the half-made SA goes after the same schedule.
  const mute = psk();
  mute.drop = (s, from) => from === "hub" && s.datagram[18] === ExchangeTypeV2.IKE_AUTH;
  mute.dial();
  assert.equal(mute.branch.engine.ikeSas(mute.now)[0]?.state, "IKE_AUTH_SENT");
  assert.equal(mute.branch.engine.peerStates(mute.now)[0]?.state, "connecting");
  mute.advance(mute.now + RETRANSMIT_GIVE_UP_MS);
  assert.deepEqual(events(mute), ["failed:no answer to IKE_AUTH"]);
  assert.equal(sent(mute, ExchangeTypeV2.IKE_AUTH).length, 5);
  assert.equal(mute.branch.engine.ikeSas(mute.now).length, 0);
});

Deno.test("IKEv2 refusals are failed attempts; nothing stays installed", () => {
  const wrongKey = pair(
    branchPolicy(V2),
    (() => {
      const p = hubPolicy(V2);
      const secrets = new Map([["branch1", new TextEncoder().encode("another key")]]);
      return { ...p, credentials: new MemoryCredentials(secrets) };
    })(),
  );
  wrongKey.dial();
  assert.deepEqual(events(wrongKey), [
    "failed:the peer refused IKE_AUTH: AUTHENTICATION_FAILED",
  ]);
  assert.equal(wrongKey.branch.sas.size, 0);
  assert.equal(wrongKey.branch.engine.ikeSas(wrongKey.now).length, 0);

  const esp = psk({ esp_proposals: ["aes256-sha256"] }, { esp_proposals: ["aes128gcm16"] });
  esp.dial();
  assert.deepEqual(events(esp), [
    "failed:the peer refused the CHILD_SA: NO_PROPOSAL_CHOSEN",
  ]);
  assert.equal(esp.branch.sas.size, 0);
  assert.equal(esp.branch.engine.ikeSas(esp.now).length, 0);
  assert.equal(esp.hub.engine.ikeSas(esp.now).length, 0, "our Delete reached the hub");

  const ts = psk({}, { remote_ts: ["10.9.0.0/16"] });
  ts.dial();
  assert.deepEqual(events(ts), ["failed:the peer refused the CHILD_SA: TS_UNACCEPTABLE"]);
  assert.equal(ts.branch.sas.size, 0);
});

Deno.test("IKEv2 narrowed selectors are used as answered", () => {
  const w = psk({}, { local_ts: ["10.1.5.0/24"] });
  w.dial();
  assertUp(w);
  const out = [...w.branch.sas.values()].find((s) => s.direction === "out")!;
  assert.equal(out.remoteSelectors[0]!.startAddress, "10.1.5.0");
  assert.equal(out.remoteSelectors[0]!.endAddress, "10.1.5.255");
});

Deno.test("IKEv2 behind a NAT: IKE_AUTH on port 4500, ESP in UDP on both sides", () => {
  const w = psk({}, { remote: "%any" });
  w.nat = { address: "203.0.113.9", port500: 40500, port4500: 44500 };
  w.dial();
  assertUp(w);
  const auth = sent(w, ExchangeTypeV2.IKE_AUTH)[0]!;
  assert.equal(auth.local.port, 4500);
  assert.equal(auth.remote.port, 4500);
  for (const s of [...w.branch.sas.values(), ...w.hub.sas.values()]) {
    assert.ok(s.endpoints.encap !== undefined, "UDP-encapsulated");
  }
  assert.equal(w.hub.engine.ikeSas(w.now)[0]!.remote, "203.0.113.9:44500");
});

Deno.test("IKEv2 tunnel lost: a dead hub and a Delete from the hub are 'down'", () => {
  const w = psk({ dpd_delay: 10, dpd_timeout: 30 });
  w.dial();
  assertUp(w);
  // The hub's own liveness checks reach the branch and are answered (the I flag on answers).
  w.advance(w.now + 100_000);
  assert.deepEqual(events(w), ["up:"]);
  w.drop = () => true;
  w.advance(w.now + 120_000);
  assert.deepEqual(events(w), ["up:", "down:dead peer"]);
  assert.equal(w.branch.sas.size, 0);

  const d = psk();
  d.dial();
  assertUp(d);
  d.run("hub", d.hub.engine.deletePeer("branch1", d.now));
  assert.deepEqual(events(d), ["up:", "down:deleted by the peer"]);
  assert.equal(d.branch.sas.size, 0);
  assert.equal(d.branch.engine.ikeSas(d.now).length, 0);
});

Deno.test("IKEv2 clear ike sa on the branch sends a Delete; a new dial comes up again", () => {
  const w = psk();
  w.dial();
  assertUp(w);
  w.run("branch", w.branch.engine.deletePeer("hq", w.now));
  assert.equal(w.hub.engine.ikeSas(w.now).length, 0);
  assert.equal(w.hub.sas.size, 0);
  w.dial();
  assert.deepEqual(events(w), ["up:", "up:"]);
  assert.equal(matchedPairs(w.branch, w.hub), 1);
});

const base = await Deno.makeTempDir({ prefix: "bg-v2-pair-pki-" });
const ca = await makeCa(base, "ca", undefined, { notBefore: new Date(NOW.getTime() - 10 * DAY) });

Deno.test("IKEv2 initiator with certificates (ECDSA and RSA): up, SAs agree", async () => {
  for (const alg of ["p256", "rsa2048"] as const) {
    const cert = (name: string) =>
      issue(base, `${name}-${alg}`, ca, {
        subject: `/O=example/CN=${name}.example.net`,
        sans: `DNS:${name}.example.net`,
        alg,
      });
    const common = {
      ike_version: 2,
      ike_proposals: ["aes128-sha256-modp2048"],
      esp_proposals: ["aes128gcm16"],
    };
    const w = pair(
      pubkeyPolicy(ca, certBranchPeer(common), BRANCH_IP, await cert("br")),
      pubkeyPolicy(ca, certHubPeer(common), HUB_IP, await cert("hub")),
    );
    w.dial();
    assertUp(w);
    const auth = sent(w, ExchangeTypeV2.IKE_AUTH).map((s) => decodeV2Message(s.datagram));
    assert.ok(auth.length >= 1);
  }
  await Deno.remove(base, { recursive: true });
});

Deno.test("IKEv2 SAs we dialled get our own rekeys: CHILD_SA at soft lifetime, IKE SA before expiry", () => {
  const w = psk({ ike_lifetime: 600, rekey_margin: 60 });
  w.dial();
  assertUp(w);
  const before = w.branch.engine.ikeSas(w.now)[0]!.spis;
  const child = w.branch.engine.childSas(w.now)[0]!;
  w.run(
    "branch",
    w.branch.engine.espLifetime(
      { kind: "soft", spi: child.inboundSpi, direction: "in", childId: child.childId },
      w.now,
    ),
  );
  assert.equal(matchedPairs(w.branch, w.hub), 1, lines(w.branch.log).join("\n"));
  const rekeyed = w.branch.engine.childSas(w.now).filter((c) => c.state === "installed");
  assert.ok(!rekeyed.some((c) => c.inboundSpi === child.inboundSpi), "the old child is gone");
  w.advance(w.now + 600_000);
  const after = w.branch.engine.ikeSas(w.now);
  assert.equal(after.length, 1, lines(w.branch.log).join("\n"));
  assert.notEqual(after[0]!.spis, before, "a new IKE SA");
  assert.equal(after[0]!.spis, w.hub.engine.ikeSas(w.now)[0]!.spis);
  assert.equal(matchedPairs(w.branch, w.hub), 1);
  assert.equal(matchedPairs(w.hub, w.branch), 1);
  assert.deepEqual(events(w), ["up:"], "rekeys are neither down nor re-dials");
  // The new IKE SA still carries liveness checks both ways.
  w.advance(w.now + 200_000);
  assert.deepEqual(events(w), ["up:"]);
});

Deno.test("IKEv2 attempts in flight end with clear ike sa and with a changed peer", () => {
  for (const stage of [ExchangeTypeV2.IKE_SA_INIT, ExchangeTypeV2.IKE_AUTH]) {
    const w = psk();
    w.drop = (s, from) => from === "hub" && s.datagram[18] === stage;
    w.dial();
    assert.equal(w.branch.engine.peerStates(w.now)[0]?.state, "connecting");
    w.run("branch", w.branch.engine.deletePeer("hq", w.now));
    assert.deepEqual(events(w), ["failed:deleted locally"]);
    assert.equal(w.branch.engine.ikeSas(w.now).length, 0);
    assert.equal(w.branch.engine.peerStates(w.now)[0]?.state, "down");

    const c = psk();
    c.drop = (s, from) => from === "hub" && s.datagram[18] === stage;
    c.dial();
    c.run("branch", c.branch.engine.setPolicy(branchPolicy({ ...V2, dpd_delay: 5 }), c.now));
    assert.deepEqual(events(c), ["failed:configuration changed"]);
    assert.equal(c.branch.engine.ikeSas(c.now).length, 0);
    // Nothing of the abandoned attempt fires later.
    c.advance(c.now + 60_000);
    assert.deepEqual(events(c), ["failed:configuration changed"]);
  }
});

Deno.test("IKEv2 initiator: seeded mutants of the responder's answers never crash or half-install", () => {
  const { seed, next } = seededRng("initiator v2 mutants");
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const stage = i % 2 === 0 ? ExchangeTypeV2.IKE_SA_INIT : ExchangeTypeV2.IKE_AUTH;
    // One group on both sides: the answer mutated is the one with SA, KE and Nr.
    const w = psk({ ike_proposals: ["aes128-sha256-modp2048"] });
    let mutated = false;
    w.drop = (s, from) => {
      if (mutated || from !== "hub" || s.datagram[18] !== stage) return false;
      mutated = true;
      const m = mutateBytes(s.datagram, next, next() % 4);
      w.run("branch", w.branch.engine.handle(m, s.remote, s.local, w.now));
      return true; // the original is lost: the branch's retransmission gets it again
    };
    w.dial();
    w.advance(w.now + 40_000);
    const why = `seed ${seed}, mutant ${i}: ${lines(w.branch.log).join("\n")}`;
    assert.ok(!lines(w.branch.log).some((l) => l.includes("internal error")), why);
    const ev = events(w);
    assert.equal(ev.length, 1, why);
    if (ev[0] === "up:") {
      assert.equal(matchedPairs(w.branch, w.hub), 1, why);
      assert.equal(matchedPairs(w.hub, w.branch), 1, why);
    } else {
      assert.equal(w.branch.sas.size, 0, why);
      assert.equal(w.branch.engine.ikeSas(w.now).length, 0, why);
    }
    const k = ev[0]!.replace(/: .*/, "");
    outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  }
  console.log(`mutant outcomes: ${JSON.stringify([...outcomes])}`);
  assert.ok((outcomes.get("up:") ?? 0) > 100, JSON.stringify([...outcomes]));
});

Deno.test("IKEv2 initiator over IPv6 (documentation prefix, in process)", () => {
  const hub6 = "2001:db8::1";
  const branch6 = "2001:db8::2";
  const common = { ...V2, ike_proposals: ["aes128gcm16-prfsha256-curve25519"] };
  const w = pair(
    policyOf({
      ...common,
      name: "hq",
      remote: hub6,
      start_action: "start",
      local_ts: ["10.2.0.0/16"],
      remote_ts: ["10.1.0.0/16"],
    }, { listen: [BRANCH_IP, branch6] }),
    policyOf({
      ...common,
      name: "branch1",
      remote: branch6,
      local_ts: ["10.1.0.0/16"],
      remote_ts: ["10.2.0.0/16"],
    }, { listen: [hub6] }),
  );
  w.dial(hub6);
  assertUp(w);
  const auth = sent(w, ExchangeTypeV2.IKE_AUTH)[0]!;
  assert.equal(auth.local.address, branch6, "the IPv6 listen address");
  assert.equal(w.hub.engine.ikeSas(w.now)[0]!.remote, `${branch6}:500`);
});
