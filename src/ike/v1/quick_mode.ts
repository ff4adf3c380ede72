/**
 * IKEv1 Quick Mode, responder side (RFC 2409 §5.5):
 *
 *     HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr]  -->
 *                                     <--  HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr]
 *     HDR*, HASH(3)                                -->
 *
 * HASH(1) = prf(SKEYID_a, M-ID | rest of message 1), HASH(2) = prf(SKEYID_a, M-ID | Ni_b |
 * rest of message 2), HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b). PFS with its own KE whose
 * group is the proposal's GROUP_DESCRIPTION; client IDs are traffic selectors narrowed to the
 * configured ones (absent IDs = the Phase 1 addresses); KEYMAT per direction. Our inbound SA
 * is installed before message 2 goes out (the initiator may send on the new SA as soon as it
 * has message 2: only the Commit bit makes it wait, RFC 2408 §3.1), and so is the outbound
 * one: in service at once when no child carries these selectors yet (nothing else could carry
 * the answers to the initiator's first packets), else on standby until the peer's first packet
 * on the new inbound SA or message 3 (a peer that drops its old SA as it sends message 3, as
 * strongSwan does, then loses only what was in flight); an exchange that never completes takes
 * its SAs with it.
 *
 * The exchange works on decrypted payload chains; encryption, IVs and the message-ID table are
 * the caller's ({@link QmHost}). Nothing here throws on peer input: every failure is an event,
 * and where the RFC asks for it a Notify.
 * @module
 */

import type { DhGroupId } from "../../crypto/types.ts";
import { CryptoError } from "../../crypto/types.ts";
import { concat, octet, u32 } from "../../crypto/kdf/primitives.ts";
import type { TrafficSelector } from "../../esp/sa_spec.ts";
import { encodeAttributes } from "../message/attributes.ts";
import { bytesAfterPayload, encodeV1Chain } from "../message/v1/chain.ts";
import { DoiV1, NotifyTypeV1, ProtocolV1, SituationV1 } from "../message/v1/registry.ts";
import type { DecodedPayloadV1, IdPayloadV1, PayloadV1 } from "../message/v1/types.ts";
import { FlagV1 } from "../message/header.ts";
import type { ChildSa, ChildSaTable, NewChild } from "../child/child_sa.ts";
import { type ChildStore, newChildStore } from "../child/store.ts";
import { newChild } from "./child_spec.ts";
import { groupName } from "../algorithms.ts";
import { isEspMismatch, parseEspProposals, selectEsp } from "./esp_proposal.ts";
import { deriveChildKeys } from "./keymat.ts";
import type { QmHost, QmIkeSa, QmMessage } from "./phase2_host.ts";
import { QmRefusal as Refusal, readQuickModeRequest } from "./qm_request.ts";
import { type SpiAllocator, spiBytes, SpiExhaustedError, spiHex } from "../child/spi.ts";
import {
  configSelector,
  formatSelector,
  hostSelector,
  isTsError,
  sameSelector,
} from "../child/ts.ts";
import { idToSelector, narrowV1 as narrow, selectorToId } from "./ts_id.ts";

export type { QmCrypto, QmHost, QmIkeSa, QmMessage } from "./phase2_host.ts";

/** Half-open exchange: our message 2 is out, message 3 expected. */
interface Pending {
  readonly sa: QmIkeSa;
  readonly messageId: number;
  readonly request: Uint8Array;
  readonly response: Uint8Array;
  readonly ni: Uint8Array;
  readonly nr: Uint8Array;
  readonly child: NewChild;
  /** The id under which the inbound SA is already installed. */
  readonly childId: string;
  /** The outbound SA is in service already (a first child), not on standby (a rekey). */
  readonly outboundEarly: boolean;
  /** We shortened the peer's lifetime (RESPONDER-LIFETIME): we rekey the child ourselves. */
  readonly shortened: boolean;
  readonly commit: boolean;
  readonly expires: number;
}

/** How long we wait for message 3 before dropping a half-open Quick Mode. */
export const QUICK_MODE_TIMEOUT_MS = 60_000;

/** Half-open Quick Modes allowed per IKE SA; more are dropped until some finish. */
export const MAX_PENDING_PER_IKE_SA = 16;

/** Length of our Nr. */
const NONCE_LENGTH = 32;

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Constant-time comparison of two MACs. */
function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** Quick Mode exchanges and the child SAs they create, for every IKE SA of the responder. */
export class QuickModeResponder {
  /** The child SA table (shared with Delete and lifetime handling). */
  readonly children: ChildSaTable;
  /** Inbound SPIs in use. */
  readonly spis: SpiAllocator;
  readonly #pending = new Map<string, Pending>();
  /** Message IDs of finished exchanges per IKE SA: a replayed message 1 is not a new QM. */
  readonly #done = new Map<string, Set<number>>();

  /** A responder drawing SPIs from `random`, or using the engine's shared `store`. */
  constructor(random: (n: number) => Uint8Array, store: ChildStore = newChildStore(random)) {
    this.spis = store.spis;
    this.children = store.children;
  }

  /** Handles one Quick Mode message (1 or 3) of exchange `msg.messageId` on `sa`. */
  handle(host: QmHost, sa: QmIkeSa, msg: QmMessage, now: number): void {
    const name = sa.peer.name;
    const key = `${sa.key}/${msg.messageId}`;
    const mid = spiHex(msg.messageId);
    if (msg.messageId === 0) {
      host.event("warn", name, "Quick Mode with message ID 0 dropped", {});
      return;
    }
    const pending = this.#pending.get(key);
    if (pending !== undefined) {
      if (sameBytes(pending.request, msg.datagram)) {
        // RFC 2408 §3.1 note / RFC 2409 §5.5: the peer lost our message 2; send it again.
        host.emit({ kind: "send", datagram: pending.response, local: sa.local, remote: sa.remote });
        host.event("debug", name, "Quick Mode message 1 retransmitted; message 2 sent again", {
          messageId: mid,
        });
        return;
      }
      this.#message3(host, pending, msg, now);
      return;
    }
    if (this.#done.get(sa.key)?.has(msg.messageId) === true) {
      host.event("debug", name, "message for a finished Quick Mode ignored", { messageId: mid });
      return;
    }
    let open = 0;
    for (const p of this.#pending.values()) if (p.sa.key === sa.key) open++;
    if (open >= MAX_PENDING_PER_IKE_SA) {
      host.event("warn", name, "too many half-open Quick Modes on this IKE SA; dropped", {
        messageId: mid,
        open,
      });
      return;
    }
    let authentic = false;
    const r = this.#message1(host, sa, {
      ...msg,
      accepted: () => {
        authentic = true;
        msg.accepted?.();
      },
    }, now);
    if (r instanceof Refusal) {
      // An authenticated request we refused is finished: a replay of it is not processed again.
      if (authentic) this.#markDone(sa.key, msg.messageId);
      host.event("warn", name, r.message, { messageId: mid, ...r.fields });
      if (r.notify !== undefined) {
        host.sendInformational(sa, {
          kind: "n",
          doi: DoiV1.IPSEC,
          protocol: ProtocolV1.ESP,
          spi: new Uint8Array(0),
          notifyType: r.notify,
          data: new Uint8Array(0),
        });
      }
    }
  }

  /** Verifies HASH(1) and returns the payloads after it, or a refusal. */
  #checkHash1(host: QmHost, sa: QmIkeSa, msg: QmMessage): DecodedPayloadV1[] | Refusal {
    const [first, ...rest] = msg.chain.payloads;
    if (first === undefined || first.kind !== "hash") {
      return new Refusal(undefined, "Quick Mode message 1 does not start with HASH(1); dropped");
    }
    const want = this.#prf(
      host,
      sa,
      concat(u32(msg.messageId), bytesAfterPayload(msg.chain, first)),
    );
    if (!macEqual(first.data, want)) {
      return new Refusal(undefined, "Quick Mode HASH(1) does not verify; dropped (no SA)");
    }
    msg.accepted?.();
    return rest;
  }

  #prf(host: QmHost, sa: QmIkeSa, data: Uint8Array): Uint8Array {
    return host.crypto.prf(sa.prf, sa.skeyidA, data);
  }

  #message1(host: QmHost, sa: QmIkeSa, msg: QmMessage, now: number): Refusal | undefined {
    const body = this.#checkHash1(host, sa, msg);
    if (body instanceof Refusal) return body;
    const req = readQuickModeRequest(body);
    if (req instanceof Refusal) return req;
    const N = NotifyTypeV1;
    const ni = req.ni;
    // Proposal (RFC 2407 §4.4.4, §4.5).
    const peer = sa.peer;
    const sel = selectEsp(req.sa, parseEspProposals(peer.esp_proposals), {
      seconds: peer.esp_lifetime,
      bytes: peer.esp_lifetime_bytes,
    });
    if (isEspMismatch(sel)) {
      return new Refusal(N.NO_PROPOSAL_CHOSEN, "no acceptable ESP proposal", {
        offered: sel.offered.join(", "),
        configured: sel.configured.join(", "),
      });
    }
    // PFS: a KE exactly when the chosen transform has a group (RFC 2409 §5.5).
    const ke = req.ke;
    if (sel.pfsGroup === 0 && ke !== undefined) {
      return new Refusal(N.INVALID_KEY_INFORMATION, "KE payload without a PFS group in the SA");
    }
    if (sel.pfsGroup !== 0 && ke === undefined) {
      return new Refusal(N.INVALID_KEY_INFORMATION, "PFS group offered without a KE payload", {
        group: groupName(sel.pfsGroup),
      });
    }
    // Client identities (RFC 2409 §5.5): IDci is the peer's side, IDcr ours.
    const ts = this.#selectors(sa, req.idci, req.idcr);
    if (ts instanceof Refusal) return ts;
    // Our SPI, nonce and KE.
    let inboundSpi: number;
    try {
      inboundSpi = this.spis.allocate();
    } catch (e) {
      if (!(e instanceof SpiExhaustedError)) throw e;
      return new Refusal(N.NO_PROPOSAL_CHOSEN, e.message);
    }
    let gqmxy: Uint8Array | undefined;
    let ourKe: Uint8Array | undefined;
    if (ke !== undefined) {
      try {
        const g = host.crypto.dh(sel.pfsGroup as DhGroupId);
        if (ke.length !== g.publicLength) {
          throw new CryptoError(`KE of ${ke.length} octets, group needs ${g.publicLength}`);
        }
        const pair = g.generate();
        gqmxy = pair.computeShared(ke);
        ourKe = pair.publicValue;
      } catch (e) {
        this.spis.release(inboundSpi);
        if (!(e instanceof CryptoError)) throw e;
        return new Refusal(N.INVALID_KEY_INFORMATION, "PFS key exchange failed", {
          group: groupName(sel.pfsGroup),
          cause: e.message,
        });
      }
    }
    const nr = host.crypto.randomBytes(NONCE_LENGTH);
    const keys = deriveChildKeys(host.crypto, {
      prf: sa.prf,
      skeyidD: sa.skeyidD,
      transform: sel.transform,
      inboundSpi,
      outboundSpi: sel.peerSpi,
      ni,
      nr,
      ...(gqmxy === undefined ? {} : { gqmxy }),
    });
    // Message 2: HASH(2), SA, Nr [, KE] [, IDci, IDcr] [, N(RESPONDER-LIFETIME)].
    const reply: PayloadV1[] = [
      {
        kind: "sa",
        doi: DoiV1.IPSEC,
        situation: SituationV1.IDENTITY_ONLY,
        proposals: [{
          number: sel.proposal.number,
          protocol: ProtocolV1.ESP,
          spi: spiBytes(inboundSpi),
          transforms: [sel.chosen],
        }],
      },
      { kind: "nonce", data: nr },
    ];
    if (ourKe !== undefined) reply.push({ kind: "ke", data: ourKe });
    if (req.idci !== undefined) reply.push(ts.idci, ts.idcr);
    if (sel.responderLifetime !== undefined) {
      // RFC 2407 §4.5.4, §4.6.3.1: SPI = our inbound SPI, data = our lifetimes.
      reply.push({
        kind: "n",
        doi: DoiV1.IPSEC,
        protocol: ProtocolV1.ESP,
        spi: spiBytes(inboundSpi),
        notifyType: N.RESPONDER_LIFETIME,
        data: encodeAttributes(sel.responderLifetime),
      });
    }
    const rest = encodeV1Chain(reply).bytes;
    const hash2 = this.#prf(host, sa, concat(u32(msg.messageId), ni, rest));
    const commit = (msg.flags & FlagV1.COMMIT) !== 0;
    const child = newChild(host, {
      sa,
      sel,
      inboundSpi,
      keys,
      local: ts.local,
      remote: ts.remote,
      now,
    });
    // RFC 2408 §3.1: without the Commit bit the initiator sends on the new SA as soon as it
    // has message 2, possibly before message 3 reaches us: our inbound SA goes in first
    // (message 1 is authenticated; the keys need our fresh Nr).
    const childId = this.children.reserveId(peer.name);
    host.emit({ kind: "installSa", spec: { ...child.inbound, childId } });
    // A first child: its outbound SA can take nothing from an older one, and the initiator's
    // first packets (a trap's held ones) are answered at once, not lost until message 3. A
    // rekey: the new outbound SA waits on standby for the peer's first packet on the new
    // inbound one (it has the pair then), so the switch needs no trip through IKE.
    const standby = this.children.outboundActivation(peer.name, child.inbound);
    const outboundEarly = standby.activateOn === undefined;
    host.emit({ kind: "installSa", spec: { ...child.outbound, childId, ...standby } });
    // RFC 2408 §3.1: a peer asking for the commit bit gets it back and, after message 3, our
    // CONNECTED notification with this exchange's message ID.
    const response = host.sendQuickMode(
      sa,
      msg.messageId,
      [{ kind: "hash", data: hash2 }, ...reply],
      commit ? FlagV1.COMMIT : 0,
    );
    this.#pending.set(`${sa.key}/${msg.messageId}`, {
      sa,
      messageId: msg.messageId,
      request: msg.datagram.slice(),
      response,
      ni,
      nr,
      child,
      childId,
      outboundEarly,
      shortened: sel.responderLifetime !== undefined,
      commit,
      expires: now + QUICK_MODE_TIMEOUT_MS,
    });
    host.event("debug", peer.name, "Quick Mode message 2 sent", {
      messageId: spiHex(msg.messageId),
      transform: sel.transformName,
      pfs: sel.pfsGroup === 0 ? "none" : groupName(sel.pfsGroup),
    });
    return undefined;
  }

  /** Our and the peer's selector, narrowed, with the ID payloads to answer with. */
  #selectors(
    sa: QmIkeSa,
    idci: IdPayloadV1 | undefined,
    idcr: IdPayloadV1 | undefined,
  ):
    | { remote: TrafficSelector; local: TrafficSelector; idci: IdPayloadV1; idcr: IdPayloadV1 }
    | Refusal {
    const N = NotifyTypeV1;
    const remoteP = idci === undefined ? hostSelector(sa.remote.address) : idToSelector(idci);
    const localP = idcr === undefined ? hostSelector(sa.local.address) : idToSelector(idcr);
    if (isTsError(remoteP) || isTsError(localP)) {
      const why = isTsError(remoteP) ? remoteP.message : isTsError(localP) ? localP.message : "";
      return new Refusal(N.INVALID_ID_INFORMATION, `unusable Quick Mode ID: ${why}`);
    }
    const list = (texts: readonly string[]) =>
      texts.map(configSelector).filter((x): x is TrafficSelector => !isTsError(x));
    const remote = narrow(remoteP, list(sa.peer.remote_ts));
    const local = narrow(localP, list(sa.peer.local_ts));
    if (remote === undefined || local === undefined) {
      return new Refusal(N.INVALID_ID_INFORMATION, "traffic selectors not allowed", {
        proposedLocal: formatSelector(localP),
        proposedRemote: formatSelector(remoteP),
        localTs: sa.peer.local_ts.join(","),
        remoteTs: sa.peer.remote_ts.join(","),
      });
    }
    // Echo the peer's IDs when unchanged, else the narrowed ones.
    const answer = (proposed: TrafficSelector, chosen: TrafficSelector, id?: IdPayloadV1) => {
      if (id !== undefined && sameSelector(proposed, chosen)) {
        const echo: IdPayloadV1 = { ...id, kind: "id" };
        return echo;
      }
      const out = selectorToId(chosen);
      return isTsError(out) ? undefined : out;
    };
    const a = answer(remoteP, remote, idci);
    const b = answer(localP, local, idcr);
    if (a === undefined || b === undefined) {
      return new Refusal(N.INVALID_ID_INFORMATION, "narrowed selectors have no ID form");
    }
    return { remote, local, idci: a, idcr: b };
  }

  #message3(host: QmHost, p: Pending, msg: QmMessage, now: number): void {
    const name = p.sa.peer.name;
    const mid = spiHex(p.messageId);
    const [first, ...rest] = msg.chain.payloads;
    const want = this.#prf(host, p.sa, concat(octet(0), u32(p.messageId), p.ni, p.nr));
    if (first?.kind !== "hash" || !macEqual(first.data, want)) {
      // RFC 2409 §5.5: HASH(3) proves liveness; without it no SA. The exchange stays open
      // for a correct message 3 until it times out.
      host.event("warn", name, "Quick Mode HASH(3) does not verify; no SA", { messageId: mid });
      return;
    }
    msg.accepted?.();
    if (rest.some((x) => x.kind !== "n" && x.kind !== "vid")) {
      host.event("warn", name, "Quick Mode message 3 carries unexpected payloads; ignored them", {
        messageId: mid,
      });
    }
    this.#pending.delete(`${p.sa.key}/${p.messageId}`);
    this.#markDone(p.sa.key, p.messageId);
    const { child, actions } = this.children.install({
      ...p.child,
      installedAt: now,
      ...(p.shortened ? { rekeyByUs: true } : {}),
    }, {
      childId: p.childId,
      outbound: p.outboundEarly,
    });
    for (const a of actions) host.emit(a);
    this.#established(host, child);
    if (p.commit) {
      host.sendInformational(p.sa, {
        kind: "n",
        doi: DoiV1.IPSEC,
        protocol: ProtocolV1.ESP,
        spi: spiBytes(child.inbound.spi),
        notifyType: NotifyTypeV1.CONNECTED,
        data: new Uint8Array(0),
      }, p.messageId);
    }
  }

  #established(host: QmHost, c: ChildSa): void {
    host.event("info", c.peer, "child SA established", {
      childId: c.childId,
      spiIn: spiHex(c.inbound.spi),
      spiOut: spiHex(c.outbound.spi),
      transform: c.transformName,
      pfs: c.pfsGroup === 0 ? "none" : groupName(c.pfsGroup),
      localTs: c.inbound.localSelectors.map(formatSelector).join(","),
      remoteTs: c.inbound.remoteSelectors.map(formatSelector).join(","),
      encap: c.inbound.endpoints.encap !== undefined,
      lifetime: c.inbound.lifetime.hardSeconds,
    });
  }

  #markDone(saKey: string, messageId: number): void {
    let s = this.#done.get(saKey);
    if (s === undefined) this.#done.set(saKey, s = new Set());
    s.add(messageId);
  }

  /** Drops half-open exchanges whose message 3 did not come in time. */
  tick(host: QmHost, now: number): void {
    for (const [k, p] of this.#pending) {
      if (p.expires > now) continue;
      this.#drop(host, k, p);
      this.#markDone(p.sa.key, p.messageId);
      host.event("warn", p.sa.peer.name, "Quick Mode timed out waiting for message 3; no SA", {
        messageId: spiHex(p.messageId),
      });
    }
  }

  /** The earliest half-open expiry, if any. */
  nextDeadline(): number | undefined {
    let at: number | undefined;
    for (const p of this.#pending.values()) if (at === undefined || p.expires < at) at = p.expires;
    return at;
  }

  /**
   * The IKE SA is gone: its half-open exchanges go too (with their inbound SAs); its children
   * stay (RFC 2409 §5.5).
   */
  ikeSaDeleted(host: QmHost, saKey: string): void {
    for (const [k, p] of this.#pending) {
      if (p.sa.key === saKey) this.#drop(host, k, p);
    }
    this.#done.delete(saKey);
  }

  /** Forgets a half-open exchange and removes the SAs installed for it. */
  #drop(host: QmHost, key: string, p: Pending): void {
    this.#pending.delete(key);
    const spi = p.child.inbound.spi;
    const peer = p.sa.peer.name;
    host.emit({ kind: "deleteSa", spi, direction: "in", peer });
    host.emit({ kind: "deleteSa", spi: p.child.outbound.spi, direction: "out", peer });
    this.spis.release(spi);
  }

  /** Number of half-open exchanges. */
  get pendingCount(): number {
    return this.#pending.size;
  }
}
