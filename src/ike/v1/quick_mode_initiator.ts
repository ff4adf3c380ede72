/**
 * IKEv1 Quick Mode, initiator side (RFC 2409 §5.5), next to the responder in quick_mode.ts and
 * sharing its pieces (SPI allocator, child table, ESP selection, KEYMAT, child specs):
 *
 *     HDR*, HASH(1), SA, Ni [, KE], IDci, IDcr  -->
 *                                 <--  HDR*, HASH(2), SA, Nr [, KE], IDci, IDcr
 *     HDR*, HASH(3)                             -->
 *
 * We offer our configured ESP proposals (offer.ts) with PFS when configured, our first
 * local_ts/remote_ts pair as IDci/IDcr; message 2 must verify (HASH(2)), choose one of our
 * transforms with our PFS group and answer selectors inside ours. Both SAs are installed when
 * message 3 is sent; a rekey's outbound SA on standby (see {@link ACTIVATE_AFTER_MS}). Message 1
 * is retransmitted (retransmit.ts) until answered; the soft
 * lifetime of a child we negotiated is its hard lifetime minus rekey_margin minus up to a
 * quarter of the margin at random, so two dialling sides rarely rekey at once.
 * @module
 */

import type { DhKeyPair } from "../../crypto/types.ts";
import { CryptoError } from "../../crypto/types.ts";
import { concat, octet, u32 } from "../../crypto/kdf/primitives.ts";
import type { TrafficSelector } from "../../esp/sa_spec.ts";
import type { PeerConfig } from "../../config/schema.ts";
import { bytesAfterPayload, encodeV1Chain } from "../message/v1/chain.ts";
import { NotifyTypeV1 } from "../message/v1/registry.ts";
import { nameOf } from "../message/names.ts";
import type { PayloadV1 } from "../message/v1/types.ts";
import { pending, type PendingRequest, retransmitStep } from "../initiator/retransmit.ts";
import type { ChildSa, ChildSaTable } from "../child/child_sa.ts";
import { newChild } from "./child_spec.ts";
import { jitterSoft } from "../child/spec.ts";
import { groupName } from "../algorithms.ts";
import { isEspMismatch, parseEspProposals, selectEsp } from "./esp_proposal.ts";
import { deriveChildKeys } from "./keymat.ts";
import { espOffer } from "./offer.ts";
import { all, one, sameBytes } from "./phase1_common.ts";
import type { QmHost, QmIkeSa, QmMessage } from "./phase2_host.ts";
import { type SpiAllocator, SpiExhaustedError, spiHex } from "../child/spi.ts";
import { configSelector, formatSelector, isTsError } from "../child/ts.ts";
import { idToSelector, narrowV1, selectorToId } from "./ts_id.ts";

/** Nonce length we send (RFC 2409 §5: 8..256 octets). */
const NONCE_LENGTH = 32;

/**
 * A rekey's new outbound SA goes into service with the responder's first authenticated packet
 * on the new pair, or this long after our message 3, whichever comes first. Without the Commit
 * bit nothing tells us when the responder has the new SAs (RFC 2408 §3.1; RFC 2409 §5.5 ends
 * the exchange with our HASH(3)), and a responder may install them only when message 3 arrives
 * (strongSwan does, both directions at once, with no further message): sending on the new SA
 * before that loses the packets, while the old pair still works at both ends. One second is
 * many one-way trips plus the peer's processing; a lost message 3 shows as a repeated message
 * 2 (strongSwan re-sends it after about 4 s), whose answer starts the delay again.
 */
export const ACTIVATE_AFTER_MS = 1000;

/** One Quick Mode of ours waiting for message 2. */
interface Outgoing {
  readonly sa: QmIkeSa;
  readonly messageId: number;
  readonly ni: Uint8Array;
  readonly dh: DhKeyPair | undefined;
  readonly pfsGroup: number;
  readonly inboundSpi: number;
  readonly local: TrafficSelector;
  readonly remote: TrafficSelector;
  readonly request: PendingRequest;
}

/** What became of a message 2 or a timer: a child, a failure (with why), or nothing yet. */
export type QmOutcome =
  | { readonly kind: "child"; readonly child: ChildSa }
  | {
    readonly kind: "failed";
    readonly saKey: string;
    readonly peer: string;
    readonly why: string;
  };

/** Our Quick Modes in flight and their message 3 for repeated message 2s. */
export class QuickModeInitiator {
  readonly #spis: SpiAllocator;
  readonly #children: ChildSaTable;
  readonly #random: (n: number) => Uint8Array;
  readonly #out = new Map<string, Outgoing>();
  /** Finished exchanges: key → our message 3, re-sent when message 2 comes again (bounded),
   * and the child it made. */
  readonly #finished = new Map<string, { readonly m3: Uint8Array; readonly childId: string }>();
  /** Rekeys' outbound SAs on standby: child id → when the fallback puts it into service. */
  readonly #standby = new Map<string, number>();

  /** Shares the responder's SPI allocator and child table. */
  constructor(spis: SpiAllocator, children: ChildSaTable, random: (n: number) => Uint8Array) {
    this.#spis = spis;
    this.#children = children;
    this.#random = random;
  }

  /** True when message `messageId` on IKE SA `saKey` belongs to one of our exchanges. */
  owns(saKey: string, messageId: number): boolean {
    const k = `${saKey}/${messageId}`;
    return this.#out.has(k) || this.#finished.has(k);
  }

  /** True while a Quick Mode of ours runs for `peer`. */
  busy(peer: string): boolean {
    for (const o of this.#out.values()) if (o.sa.peer.name === peer) return true;
    return false;
  }

  /**
   * Starts a Quick Mode on `sa` for the peer's first local_ts/remote_ts pair (or `ts`, a
   * rekey's selectors). Returns a failure reason, or undefined when message 1 is out.
   */
  start(
    host: QmHost,
    sa: QmIkeSa,
    now: number,
    ts?: { readonly local: TrafficSelector; readonly remote: TrafficSelector },
  ): string | undefined {
    const peer = sa.peer;
    const local = ts?.local ?? configSelector(peer.local_ts[0]!);
    const remote = ts?.remote ?? configSelector(peer.remote_ts[0]!);
    if (isTsError(local) || isTsError(remote)) return "configured selectors unusable";
    const idci = selectorToId(local);
    const idcr = selectorToId(remote);
    if (isTsError(idci) || isTsError(idcr)) return "configured selectors have no ID form";
    let inboundSpi: number;
    try {
      inboundSpi = this.#spis.allocate();
    } catch (e) {
      if (!(e instanceof SpiExhaustedError)) throw e;
      return e.message;
    }
    const encap = sa.natt ? (sa.nattVariant ?? "rfc") : false;
    const offer = espOffer(peer, inboundSpi, encap);
    if (offer.sa.proposals[0]!.transforms.length === 0) {
      this.#spis.release(inboundSpi);
      return "no ESP proposal can be offered (check esp_proposals)";
    }
    let dh: DhKeyPair | undefined;
    try {
      dh = offer.pfsGroup === 0 ? undefined : host.crypto.dh(offer.pfsGroup as never).generate();
    } catch (e) {
      this.#spis.release(inboundSpi);
      if (!(e instanceof CryptoError)) throw e;
      return `PFS group ${groupName(offer.pfsGroup)}: ${e.message}`;
    }
    const ni = host.crypto.randomBytes(NONCE_LENGTH);
    let messageId = 0;
    while (messageId === 0 || this.owns(sa.key, messageId)) {
      const b = this.#random(4);
      messageId = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    }
    const rest: PayloadV1[] = [offer.sa, { kind: "nonce", data: ni }];
    if (dh !== undefined) rest.push({ kind: "ke", data: dh.publicValue });
    rest.push(idci, idcr);
    // HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [ | KE ] [ | IDci | IDcr ]) (RFC 2409 §5.5).
    const hash1 = host.crypto.prf(
      sa.prf,
      sa.skeyidA,
      concat(u32(messageId), encodeV1Chain(rest).bytes),
    );
    const datagram = host.sendQuickMode(sa, messageId, [{ kind: "hash", data: hash1 }, ...rest], 0);
    this.#out.set(`${sa.key}/${messageId}`, {
      sa,
      messageId,
      ni,
      dh,
      pfsGroup: offer.pfsGroup,
      inboundSpi,
      local,
      remote,
      request: pending(datagram, now),
    });
    host.event("debug", peer.name, "Quick Mode message 1 sent", {
      messageId: spiHex(messageId),
      localTs: formatSelector(local),
      remoteTs: formatSelector(remote),
      pfs: offer.pfsGroup === 0 ? "none" : groupName(offer.pfsGroup),
    });
    return undefined;
  }

  /** Message 2 of one of our exchanges (decrypted); message 3 is sent and the child installed. */
  handle(host: QmHost, sa: QmIkeSa, msg: QmMessage, now: number): QmOutcome | undefined {
    const key = `${sa.key}/${msg.messageId}`;
    const done = this.#finished.get(key);
    if (done !== undefined) {
      host.emit({ kind: "send", datagram: done.m3, local: sa.local, remote: sa.remote });
      // The responder did not get message 3: it has no new SAs yet, so the fallback waits anew.
      if (this.#standby.has(done.childId)) this.#standby.set(done.childId, now + ACTIVATE_AFTER_MS);
      return undefined;
    }
    const o = this.#out.get(key);
    if (o === undefined) return undefined;
    const name = sa.peer.name;
    const mid = spiHex(o.messageId);
    const [first, ...rest] = msg.chain.payloads;
    const want = first?.kind === "hash"
      ? host.crypto.prf(
        sa.prf,
        sa.skeyidA,
        concat(u32(o.messageId), o.ni, bytesAfterPayload(msg.chain, first)),
      )
      : undefined;
    if (first?.kind !== "hash" || want === undefined || !sameBytes(first.data, want)) {
      // Unauthenticated: drop and keep waiting (retransmission goes on).
      host.event("warn", name, "Quick Mode HASH(2) does not verify; dropped", { messageId: mid });
      return undefined;
    }
    // Authenticated: the message-ID IV chain and the NAT mapping may move (RFC 3947 §4).
    msg.accepted?.();
    const fail = (why: string): QmOutcome => {
      this.#drop(key, o);
      host.event("warn", name, `Quick Mode as initiator failed: ${why}`, { messageId: mid });
      return { kind: "failed", saKey: sa.key, peer: name, why };
    };
    const saP = one(rest, "sa");
    const nr = one(rest, "nonce");
    if (saP === undefined || nr === undefined) return fail("message 2 without one SA and one Nr");
    if (nr.data.length < 8 || nr.data.length > 256) return fail("Nr length out of 8..256");
    const p0 = saP.proposals[0];
    if (saP.proposals.length !== 1 || p0 === undefined || p0.transforms.length !== 1) {
      return fail("message 2 must choose one proposal with one transform");
    }
    const sel = selectEsp(saP, parseEspProposals(sa.peer.esp_proposals), {
      seconds: sa.peer.esp_lifetime,
      bytes: sa.peer.esp_lifetime_bytes,
    });
    if (isEspMismatch(sel)) return fail(`the chosen transform is not ours (${sel.offered})`);
    if (sel.pfsGroup !== o.pfsGroup) return fail(`PFS group ${sel.pfsGroup} is not ours`);
    let gqmxy: Uint8Array | undefined;
    if (o.dh !== undefined) {
      const ke = one(rest, "ke");
      if (ke === undefined) return fail("PFS without a KE in message 2");
      try {
        gqmxy = o.dh.computeShared(ke.data);
      } catch (e) {
        if (!(e instanceof CryptoError)) throw e;
        return fail(`the peer's PFS public value is invalid: ${e.message}`);
      }
    }
    const ts = this.#selectors(sa.peer, o, all(rest, "id"));
    if (typeof ts === "string") return fail(ts);
    const keys = deriveChildKeys(host.crypto, {
      prf: sa.prf,
      skeyidD: sa.skeyidD,
      transform: sel.transform,
      inboundSpi: o.inboundSpi,
      outboundSpi: sel.peerSpi,
      ni: o.ni,
      nr: nr.data,
      ...(gqmxy === undefined ? {} : { gqmxy }),
    });
    const spec = newChild(host, {
      sa,
      sel,
      inboundSpi: o.inboundSpi,
      keys,
      local: ts.local,
      remote: ts.remote,
      now,
    });
    const lifetime = jitterSoft(spec.inbound.lifetime, sa.peer.rekey_margin, this.#random(1)[0]!);
    // HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b).
    const hash3 = host.crypto.prf(
      sa.prf,
      sa.skeyidA,
      concat(octet(0), u32(o.messageId), o.ni, nr.data),
    );
    this.#out.delete(key);
    const standby = this.#children.outboundActivation(sa.peer.name, spec.inbound);
    const { child, actions } = this.#children.install({
      ...spec,
      inbound: { ...spec.inbound, lifetime },
      outbound: { ...spec.outbound, lifetime },
      rekeyByUs: true,
    });
    // Our SAs before message 3: the responder may send on the new pair as soon as it has it.
    for (const a of actions) {
      const out = a.kind === "installSa" && a.spec.direction === "out";
      host.emit(out ? { ...a, spec: { ...a.spec, ...standby } } : a);
    }
    const m3 = host.sendQuickMode(sa, o.messageId, [{ kind: "hash", data: hash3 }], 0);
    if (standby.activateOn !== undefined) this.#standby.set(child.childId, now + ACTIVATE_AFTER_MS);
    this.#finished.set(key, { m3, childId: child.childId });
    if (this.#finished.size > 64) this.#finished.delete(this.#finished.keys().next().value!);
    host.event("info", name, "child SA established (we initiated)", {
      childId: child.childId,
      spiIn: spiHex(child.inbound.spi),
      spiOut: spiHex(child.outbound.spi),
      transform: child.transformName,
      pfs: child.pfsGroup === 0 ? "none" : groupName(child.pfsGroup),
      localTs: formatSelector(ts.local),
      remoteTs: formatSelector(ts.remote),
      encap: child.inbound.endpoints.encap !== undefined,
      lifetime: lifetime.hardSeconds,
      outbound: standby.activateOn === undefined ? "in service" : "standby",
    });
    return { kind: "child", child };
  }

  /** The answer's selectors, which must lie within what we proposed (RFC 2409 §5.5). */
  #selectors(
    peer: PeerConfig,
    o: Outgoing,
    ids: readonly { idType: number }[],
  ): { local: TrafficSelector; remote: TrafficSelector } | string {
    if (ids.length === 0) return { local: o.local, remote: o.remote };
    if (ids.length !== 2) return "message 2 must carry both IDci and IDcr or neither";
    const l = idToSelector(ids[0] as never);
    const r = idToSelector(ids[1] as never);
    if (isTsError(l) || isTsError(r)) return "unusable IDs in message 2";
    const local = narrowV1(l, [o.local]);
    const remote = narrowV1(r, [o.remote]);
    if (local === undefined || remote === undefined) {
      return `the responder's selectors ${formatSelector(l)} ↔ ${
        formatSelector(r)
      } are not within ours (${peer.local_ts[0]} ↔ ${peer.remote_ts[0]})`;
    }
    return { local, remote };
  }

  /**
   * An Informational Notify for one of our exchanges' SAs, e.g. NO_PROPOSAL_CHOSEN: the
   * newest exchange of that IKE SA fails with the notify's name.
   */
  refused(host: QmHost, saKey: string, notifyType: number): QmOutcome | undefined {
    let last: [string, Outgoing] | undefined;
    for (const e of this.#out) if (e[1].sa.key === saKey) last = e;
    if (last === undefined) return undefined;
    this.#drop(last[0], last[1]);
    const why = `the peer refused: ${nameOf(NotifyTypeV1, notifyType)}`;
    host.event("warn", last[1].sa.peer.name, `Quick Mode as initiator failed: ${why}`);
    return { kind: "failed", saKey, peer: last[1].sa.peer.name, why };
  }

  /**
   * Retransmissions; exchanges that got no answer in time fail; rekeys' outbound SAs still on
   * standby after {@link ACTIVATE_AFTER_MS} go into service (installed again without
   * `activateOn`; a no-op in the data path when the peer's first packet did it already).
   */
  tick(host: QmHost, now: number): QmOutcome[] {
    for (const [id, due] of this.#standby) {
      if (due > now) continue;
      this.#standby.delete(id);
      const c = this.#children.get(id);
      if (c === undefined || !c.hasOutbound) continue;
      host.emit({ kind: "installSa", spec: c.outbound });
      host.event("debug", c.peer, "rekeyed child's outbound SA in service (fallback)", {
        childId: id,
        spiOut: spiHex(c.outbound.spi),
      });
    }
    const out: QmOutcome[] = [];
    for (const [k, o] of this.#out) {
      const step = retransmitStep(o.request, now);
      if (step === "resend") {
        host.emit({
          kind: "send",
          datagram: o.request.datagram,
          local: o.sa.local,
          remote: o.sa.remote,
        });
      } else if (step === "giveUp") {
        this.#drop(k, o);
        const why = "no answer to Quick Mode message 1";
        host.event("warn", o.sa.peer.name, `Quick Mode as initiator failed: ${why}`);
        out.push({ kind: "failed", saKey: o.sa.key, peer: o.sa.peer.name, why });
      }
    }
    return out;
  }

  /** The earliest retransmission or standby fallback deadline. */
  nextDeadline(): number | undefined {
    let at: number | undefined;
    for (const o of this.#out.values()) {
      if (at === undefined || o.request.due < at) at = o.request.due;
    }
    for (const due of this.#standby.values()) if (at === undefined || due < at) at = due;
    return at;
  }

  /** The IKE SA is gone: its exchanges go too. */
  ikeSaDeleted(saKey: string): void {
    for (const [k, o] of this.#out) if (o.sa.key === saKey) this.#drop(k, o);
    for (const k of [...this.#finished.keys()]) {
      if (k.startsWith(`${saKey}/`)) this.#finished.delete(k);
    }
  }

  #drop(key: string, o: Outgoing): void {
    this.#out.delete(key);
    this.#spis.release(o.inboundSpi);
  }
}
