/**
 * The IKEv1 responder (sans-I/O, src/ike/actions.ts): dispatches datagrams by cookie pair and
 * exchange type (RFC 2408 §3.1, §4) to Main Mode, Aggressive Mode, Informational and Quick
 * Mode handlers; keeps the IKE SA table, the message-ID table and IV chains (RFC 2409
 * Appendix B); runs timers (half-open expiry, IKE SA lifetime, DPD of RFC 3706); and serves
 * Phase 2 as its {@link QmHost}.
 * @module
 */

import { getCrypto } from "../crypto/registry.ts";
import type { EspLifetimeEvent } from "../esp/sa_spec.ts";
import type { LogFields, LogLevel } from "../log.ts";
import type { IkeSaView } from "./views.ts";
import type {
  ChildSaView,
  Endpoint,
  IkeAction,
  IkePolicy,
  IkeResponder,
  PeerStateView,
} from "./actions.ts";
import { decodeHeader, FlagV1 } from "./message/header.ts";
import { encodeV1Chain } from "./message/v1/chain.ts";
import {
  decodeV1Message,
  encodeV1EncryptedMessage,
  encodeV1Message,
} from "./message/v1/message.ts";
import { DoiV1, ExchangeTypeV1, ProtocolV1 } from "./message/v1/registry.ts";
import { nameOf } from "./message/names.ts";
import type { DeletePayloadV1, NotifyPayloadV1, PayloadV1 } from "./message/v1/types.ts";
import { hex, type IkeSa, isEstablished, type KeyedIkeSa, saKey } from "./sa.ts";
import { aggressiveMode1, aggressiveMode3 } from "./v1/aggressive_mode.ts";
import type { Arrival, ExchangeContext, V1Crypto } from "./v1/context.ts";
import { CookieMaker } from "./v1/cookies.ts";
import { encryptBody, messageIv } from "./v1/crypto_state.ts";
import {
  cookiePair,
  handleInformational,
  informationalChain,
  MESSAGE_ID_KEEP_MS,
  qmView,
} from "./v1/informational.ts";
import { mainMode1, mainModeNext } from "./v1/main_mode.ts";
import { isakmpDelete } from "./v1/phase1_common.ts";
import { Phase2 } from "./v1/phase2.ts";
import { dispatchQuickMode, followNatMapping, invalidPayloadType } from "./v1/dispatch_helpers.ts";
import { dpdDeadline, dpdStep, startProbe } from "./v1/dpd.ts";
import { ikeSaView, peerStateView } from "./v1/views.ts";
import { DropCounters, type DropReason, TokenBucket } from "./drops.ts";
import { HalfOpenTable } from "./v1/half_open.ts";
import { IkeSaTable, type VersionSas } from "./ike_sa_table.ts";
import { isRetransmit } from "./v1/replay_guard.ts";
import { phase1InitiatorNext, startPhase1Initiator } from "./v1/phase1_initiator.ts";
import { retransmitStep } from "./initiator/retransmit.ts";
import { formatIp, parseIp } from "../net/addr.ts";
import type { QmHost, QmIkeSa } from "./v1/phase2_host.ts";
import type { ChildStore } from "./child/store.ts";

/** Half-open Phase 1 exchanges are dropped after this long (ms). */
export const HALF_OPEN_MS = 30_000;
export { MAX_HALF_OPEN } from "./v1/half_open.ts";
/** Largest message 1 accepted (bytes): it costs state before return routability. */
export const MAX_MESSAGE_1 = 4096;

/** Why an established SA went away that makes a dialled peer dial again. */
const LOSSES: ReadonlySet<string> = new Set([
  "deleted by the peer",
  "dead peer",
  "lifetime expired",
  "INITIAL-CONTACT",
  "INITIAL-CONTACT from the peer",
]);

/** Optional collaborators (tests inject crypto and randomness). */
export interface ResponderDeps {
  /** Crypto; the process registry by default. */
  readonly crypto?: V1Crypto;
  /** Random bytes; `crypto.randomBytes` by default. */
  readonly random?: (n: number) => Uint8Array;
  /** Phase 2; a new {@link Phase2} by default. */
  readonly phase2?: Phase2;
  /** The child SAs and SPIs shared with the IKEv2 engine; a private store by default. */
  readonly children?: ChildStore;
  /** The IKE SA table shared with the IKEv2 engine; a private one by default. */
  readonly sas?: IkeSaTable;
}

/** A new IKEv1 responder for `policy`. */
export function createIkeV1Responder(policy: IkePolicy, deps: ResponderDeps = {}): IkeResponder {
  return new IkeV1Responder(policy, deps);
}

/** The IKEv1 responder. */
export class IkeV1Responder implements IkeResponder {
  #policy: IkePolicy;
  readonly #crypto: V1Crypto;
  readonly #random: (n: number) => Uint8Array;
  readonly #phase2: Phase2;
  readonly #cookies: CookieMaker;
  /** The shared IKE SA table (both versions); this responder files its SAs under `v1`. */
  readonly #table: IkeSaTable;
  /** This version's part of {@link #table}. */
  readonly #sas: VersionSas<IkeSa>;
  readonly #halfOpen = new HalfOpenTable();
  readonly #failures = new Map<string, string>();
  readonly #drops = new DropCounters();
  /** Unprotected notifies (they answer unauthenticated input). */
  readonly #notifies = new TokenBucket(20, 40);
  /** Aggressive Mode message 1 costs a DH before return routability. */
  readonly #aggressive = new TokenBucket(10, 20);
  #arrivalLength = 0;
  #out: IkeAction[] = [];
  #now = 0;
  #timerAt: number | undefined;

  /** See {@link createIkeV1Responder}. */
  constructor(policy: IkePolicy, deps: ResponderDeps = {}) {
    this.#policy = policy;
    this.#crypto = deps.crypto ?? getCrypto();
    const crypto = this.#crypto;
    this.#random = deps.random ?? ((n) => crypto.randomBytes(n));
    this.#phase2 = deps.phase2 ?? new Phase2(this.#random, deps.children);
    this.#cookies = new CookieMaker(this.#random);
    this.#table = deps.sas ?? new IkeSaTable();
    this.#sas = this.#table.v1;
  }

  // ---- IkeResponder ----

  /** {@inheritDoc IkeResponder.handle} */
  handle(datagram: Uint8Array, local: Endpoint, remote: Endpoint, now: number): IkeAction[] {
    return this.#run(now, (ctx) => this.#handle(ctx, { datagram, local, remote }));
  }

  /** {@inheritDoc IkeResponder.tick} */
  tick(now: number): IkeAction[] {
    // The caller's timer fired and is gone: the next deadline is always named again.
    this.#timerAt = undefined;
    return this.#run(now, (ctx) => this.#tick(ctx));
  }

  /** {@inheritDoc IkeResponder.espLifetime} */
  espLifetime(event: EspLifetimeEvent, now: number): IkeAction[] {
    return this.#run(now, (ctx) => this.#phase2.espLifetime(ctx.host, event, now));
  }

  /** {@inheritDoc IkeResponder.initiate} */
  initiate(peer: string, remote: string, now: number): IkeAction[] {
    return this.#run(now, (ctx) => this.#initiate(ctx, peer, remote));
  }

  /** {@inheritDoc IkeResponder.setPolicy} */
  setPolicy(policy: IkePolicy, now: number): IkeAction[] {
    return this.#run(now, (ctx) => {
      const old = this.#policy;
      const sig = (p: IkePolicy, name: string) => {
        const peer = p.config.peer.find((x) => x.name === name);
        return peer === undefined ? undefined : JSON.stringify(peer);
      };
      // Gateway settings the IKE SAs depend on (ports, addresses, our identity); log level or
      // MTU changes keep every SA.
      const gwKey = (g: IkePolicy["config"]["gateway"]) =>
        JSON.stringify([g.listen, g.ike_port, g.natt_port, g.local_id ?? ""]);
      const gwChanged = gwKey(old.config.gateway) !== gwKey(policy.config.gateway);
      for (const p of old.config.peer) {
        const before = sig(old, p.name);
        const after = sig(policy, p.name);
        const keyChanged = !old.credentials.sameFor(p.name, policy.credentials);
        if (gwChanged || before !== after || keyChanged) {
          if (this.#peerHasState(p.name)) {
            ctx.event(
              "info",
              p.name,
              after === undefined ? "peer removed: SAs deleted" : "peer changed: SAs deleted",
            );
          }
          this.#deletePeer(ctx, p.name);
        }
      }
      this.#policy = policy;
      for (const sa of this.#sas.values()) {
        const np = policy.config.peer.find((x) => x.name === sa.peer?.name);
        if (np !== undefined) sa.peer = np;
      }
      for (const [name] of this.#failures) {
        if (!policy.config.peer.some((x) => x.name === name)) this.#failures.delete(name);
      }
      for (const sa of this.#halfOpen.values()) {
        const name = sa.peer?.name;
        if (name !== undefined && !policy.config.peer.some((x) => x.name === name)) {
          this.#removeSa(ctx, sa, "peer removed");
        }
      }
    });
  }

  /** {@inheritDoc IkeResponder.deletePeer} */
  deletePeer(peer: string, now: number): IkeAction[] {
    return this.#run(now, (ctx) => this.#deletePeer(ctx, peer));
  }

  /** {@inheritDoc IkeResponder.shutdown} */
  shutdown(now: number): IkeAction[] {
    return this.#run(now, (ctx) => {
      const names = new Set<string>();
      for (const p of this.#policy.config.peer) names.add(p.name);
      for (const sa of this.#allSas()) if (sa.peer !== undefined) names.add(sa.peer.name);
      for (const n of names) this.#deletePeer(ctx, n);
      for (const sa of this.#allSas()) this.#removeSa(ctx, sa, "shutdown");
    });
  }

  /** {@inheritDoc IkeResponder.ikeSas} */
  ikeSas(now: number): IkeSaView[] {
    return this.#allSas().map((sa) => ikeSaView(sa, now));
  }

  /** {@inheritDoc IkeResponder.childSas} */
  childSas(now: number): ChildSaView[] {
    return this.#phase2.childSas(now);
  }

  /** Unauthenticated input dropped since start, by reason (for `show drops`). */
  drops(): ReadonlyMap<string, number> {
    return this.#drops.totals();
  }

  /** {@inheritDoc IkeResponder.peerStates} */
  peerStates(_now: number): PeerStateView[] {
    const sas = this.#allSas();
    return this.#policy.config.peer.map((p) =>
      peerStateView(p, sas, this.#phase2.childCount(p.name), this.#failures.get(p.name))
    );
  }

  /** The earliest deadline (ms), for the engine that keeps one timer for both versions. */
  nextDeadline(): number | undefined {
    return this.#nextDeadline();
  }

  // ---- plumbing ----

  #run(now: number, body: (ctx: ExchangeContext) => void): IkeAction[] {
    this.#now = now;
    this.#out = [];
    const ctx = this.#context(now);
    try {
      body(ctx);
      this.#qmOutcomes(ctx);
    } catch (e) {
      // A bug or an unexpected crypto failure must not take the daemon down: report and go on.
      const msg = e instanceof Error ? e.message : String(e);
      ctx.event("error", "-", `internal error in the IKE responder: ${msg}`);
    }
    const at = this.#nextDeadline();
    if (at !== undefined && at !== this.#timerAt) this.#out.push({ kind: "timer", at });
    this.#timerAt = at;
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #context(now: number): ExchangeContext {
    const emit = (a: IkeAction) => void this.#out.push(a);
    const event = (level: LogLevel, peer: string, message: string, fields: LogFields = {}) =>
      emit({ kind: "event", level, peer, message, fields });
    const host: QmHost = {
      crypto: this.#crypto,
      gateway: this.#policy.config.gateway,
      emit,
      event,
      sendQuickMode: (q, mid, payloads, flags) =>
        this.#sendEncrypted(q, mid, ExchangeTypeV1.QUICK_MODE, payloads, flags),
      sendInformational: (q, payload, mid) => {
        const sa = this.#sas.get(q.key);
        if (sa !== undefined) this.#sendInformational(sa, payload, mid);
      },
      liveIkeSa: (peer) => {
        const sa = this.#liveSa(peer);
        return sa === undefined ? undefined : qmView(sa);
      },
    };
    return {
      now,
      policy: this.#policy,
      crypto: this.#crypto,
      cookies: this.#cookies,
      phase2: this.#phase2,
      host,
      emit,
      event,
      drop: (reason, who, message, fields) =>
        this.#drops.drop({ event }, now, reason, who, message, fields),
      // Only configured peers have a failure reason (keys never come from the wire).
      failure: (peer, why) => {
        if (this.#policy.config.peer.some((p) => p.name === peer)) this.#failures.set(peer, why);
      },
      addSa: (sa, idx) => {
        this.#sas.set(sa.key, sa);
        this.#halfOpen.add(idx, sa, sa.remote.address, this.#isPeerAddress(sa.remote.address));
      },
      removeSa: (sa, why) => this.#removeSa(this.#context(now), sa, why),
      rekeySa: (sa, oldKey) => {
        if (this.#sas.get(oldKey) !== sa) return;
        this.#sas.delete(oldKey);
        this.#sas.set(sa.key, sa);
      },
      peerSas: (peer) => this.#sas.byPeer(peer),
      sendPlain: (sa, type, payloads) => {
        const datagram = encodeV1Message(
          { spiI: sa.ckyI, spiR: sa.ckyR, exchangeType: type, flags: 0, messageId: 0 },
          payloads,
        );
        emit({ kind: "send", datagram, local: sa.local, remote: sa.remote });
        return datagram;
      },
      sendPhase1Encrypted: (sa, type, payloads) => {
        const chain = encodeV1Chain(payloads);
        const e = encryptBody(this.#crypto, sa.alg.cipher, sa.encKey, sa.iv, chain.bytes);
        sa.iv = e.nextIv;
        const datagram = encodeV1EncryptedMessage(
          { spiI: sa.ckyI, spiR: sa.ckyR, exchangeType: type, flags: 0, messageId: 0 },
          chain.firstType,
          e.ciphertext,
        );
        emit({ kind: "send", datagram, local: sa.local, remote: sa.remote });
        return datagram;
      },
      notifyPlain: (sa, notifyType) => {
        if (!this.#notifies.take(now)) return;
        const datagram = encodeV1Message(
          {
            spiI: sa.ckyI,
            spiR: sa.ckyR,
            exchangeType: ExchangeTypeV1.INFORMATIONAL,
            flags: 0,
            messageId: 0,
          },
          [{
            kind: "n",
            doi: DoiV1.IPSEC,
            protocol: ProtocolV1.ISAKMP,
            spi: cookiePair(sa),
            notifyType,
            data: new Uint8Array(0),
          }],
        );
        // Never answer a source that matches no peer with more bytes than it sent.
        if (sa.peer === undefined && datagram.length > this.#arrivalLength) return;
        emit({ kind: "send", datagram, local: sa.local, remote: sa.remote });
      },
      sendInformational: (sa, payload, mid) => this.#sendInformational(sa, payload, mid),
    };
  }

  #allSas(): IkeSa[] {
    return this.#sas.values();
  }

  #liveSa(peer: string): KeyedIkeSa | undefined {
    let best: KeyedIkeSa | undefined;
    for (const sa of this.#sas.byPeer(peer)) {
      if (!isEstablished(sa)) continue;
      if (best === undefined || sa.established > best.established) best = sa;
    }
    return best;
  }

  #peerHasState(peer: string): boolean {
    return this.#sas.byPeer(peer).length > 0 || this.#phase2.childCount(peer) > 0;
  }

  #removeSa(ctx: ExchangeContext, sa: IkeSa, why: string): void {
    if (!this.#sas.has(sa.key)) return;
    this.#sas.delete(sa.key);
    this.#halfOpen.remove(sa);
    const wasUp = sa.state === "ESTABLISHED";
    sa.state = "DELETED";
    sa.exchange = undefined;
    sa.request = undefined;
    this.#phase2.ikeSaDeleted(ctx.host, sa.key);
    ctx.event(wasUp ? "info" : "debug", sa.peerName, `IKE SA removed: ${why}`, {
      spis: `${hex(sa.ckyI)}:${hex(sa.ckyR)}`,
    });
    const peer = sa.peer?.name;
    if (peer === undefined) return;
    if (!wasUp && sa.role === "initiator") {
      ctx.emit({ kind: "connection", peer, event: "failed", reason: why });
    } else if (wasUp && LOSSES.has(why) && this.#liveSa(peer) === undefined) {
      ctx.emit({ kind: "connection", peer, event: "down", reason: why });
    }
  }

  #deletePeer(ctx: ExchangeContext, peer: string): void {
    this.#phase2.deletePeer(ctx.host, peer, true);
    for (const sa of this.#sas.byPeer(peer)) {
      if (sa.state === "ESTABLISHED") this.#sendInformational(sa, isakmpDelete(sa));
      this.#removeSa(ctx, sa, "deleted locally");
    }
  }

  #sendEncrypted(
    q: QmIkeSa,
    mid: number,
    exchangeType: number,
    payloads: readonly PayloadV1[],
    flags: number,
  ): Uint8Array {
    const sa = this.#sas.get(q.key);
    if (sa === undefined || sa.alg === undefined) return new Uint8Array(0);
    const chain = encodeV1Chain(payloads);
    const iv = messageIv(this.#crypto, sa, mid);
    const e = encryptBody(this.#crypto, sa.alg.cipher, sa.encKey, iv, chain.bytes);
    const prev = sa.messages.get(mid);
    sa.messages.set(mid, {
      iv: e.nextIv,
      ...(prev?.lastIn === undefined ? {} : { lastIn: prev.lastIn }),
      touched: this.#now,
    });
    const datagram = encodeV1EncryptedMessage(
      {
        spiI: sa.ckyI,
        spiR: sa.ckyR,
        exchangeType,
        flags: flags & ~FlagV1.ENCRYPTION,
        messageId: mid,
      },
      chain.firstType,
      e.ciphertext,
    );
    this.#out.push({ kind: "send", datagram, local: sa.local, remote: sa.remote });
    return datagram;
  }

  #freshMessageId(sa: IkeSa): number {
    for (;;) {
      const b = this.#random(4);
      const mid = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
      if (mid !== 0 && !sa.messages.has(mid)) return mid;
    }
  }

  #sendInformational(sa: IkeSa, payload: NotifyPayloadV1 | DeletePayloadV1, messageId?: number) {
    if (!isEstablished(sa)) return;
    const mid = messageId ?? this.#freshMessageId(sa);
    const ctx = this.#context(this.#now);
    const payloads = informationalChain(ctx, sa, mid, payload);
    this.#sendEncrypted(qmView(sa), mid, ExchangeTypeV1.INFORMATIONAL, payloads, 0);
  }

  // ---- dispatch ----

  /** Counts and logs (at debug) one unauthenticated drop. */
  #drop(ctx: ExchangeContext, reason: DropReason, who: string, message: string, fields = {}) {
    this.#drops.drop(ctx, ctx.now, reason, who, message, fields);
  }

  #isPeerAddress(address: string): boolean {
    return this.#policy.config.peer.some((p) => {
      const ip = parseIp(p.remote);
      return ip !== undefined && formatIp(ip) === address;
    });
  }

  #handle(ctx: ExchangeContext, a: Arrival): void {
    this.#arrivalLength = a.datagram.length;
    const h = decodeHeader(a.datagram);
    const from = a.remote.address;
    if (!h.ok) {
      this.#drop(ctx, "undecodable", from, `IKE datagram dropped: ${h.error.message}`);
      return;
    }
    const header = h.value;
    if (header.majorVersion !== 1) {
      this.#drop(
        ctx,
        "not-ikev1",
        from,
        `IKE version ${header.majorVersion} datagram dropped (IKEv1 only)`,
      );
      return;
    }
    const zeroR = header.spiR.every((b) => b === 0);
    if (zeroR && a.datagram.length > MAX_MESSAGE_1) {
      this.#drop(ctx, "oversize", from, `message 1 of ${a.datagram.length} bytes dropped`);
      return;
    }
    const decoded = decodeV1Message(a.datagram);
    if (!decoded.ok) {
      const sa = this.#sas.get(saKey(header.spiI, header.spiR));
      this.#drop(
        ctx,
        "malformed",
        sa?.peerName ?? from,
        `IKE message dropped: ${decoded.error.message}`,
        {
          exchange: nameOf(ExchangeTypeV1, header.exchangeType),
        },
      );
      return;
    }
    const msg = decoded.value;
    if (!msg.encrypted) {
      const bad = invalidPayloadType(msg);
      if (bad !== undefined) {
        const sa = this.#sas.get(saKey(header.spiI, header.spiR));
        this.#drop(
          ctx,
          "invalid-payload-type",
          sa?.peerName ?? from,
          `INVALID_PAYLOAD_TYPE: payload ${bad.type} in a Phase 1 message; dropped`,
        );
        // Answered only within the notify rate and never with more bytes than received.
        if (bad.notify.length <= a.datagram.length && this.#notifies.take(ctx.now)) {
          ctx.emit({ kind: "send", datagram: bad.notify, local: a.local, remote: a.remote });
        }
        return;
      }
    }
    const ours = this.#initiating(header.spiI, header.spiR);
    if (ours !== undefined) {
      if (header.exchangeType === ExchangeTypeV1.INFORMATIONAL) {
        handleInformational(ctx, ours, msg);
      } else if (header.messageId === 0) {
        phase1InitiatorNext(ctx, ours, msg, a);
        this.#afterPhase1(ctx, ours);
      }
      return;
    }
    if (zeroR) {
      const idx = `${from}|${a.remote.port}|${hex(header.spiI)}`;
      const known = this.#halfOpen.get(idx);
      if (known !== undefined) {
        if (isRetransmit(ctx.crypto, known.lastRequest, a.datagram)) {
          this.#resend(ctx, known);
        } else {
          this.#drop(
            ctx,
            "duplicate-message-1",
            known.peerName,
            "second message 1 with the same initiator cookie; dropped",
          );
        }
        return;
      }
      // The global cap counts the IKEv2 engine's half-open SAs too (one table).
      const admit = this.#halfOpen.admit(
        from,
        this.#isPeerAddress(from),
        this.#table.v2.halfOpen(),
      );
      if (!admit.ok) {
        this.#drop(ctx, admit.reason, from, "too many half-open IKE SAs; message 1 dropped");
        return;
      }
      let sa: IkeSa | undefined;
      if (header.exchangeType === ExchangeTypeV1.IDENTITY_PROTECTION) {
        if (admit.evict !== undefined) this.#removeSa(ctx, admit.evict, "replaced (source full)");
        sa = mainMode1(ctx, header, msg, a);
      } else if (header.exchangeType === ExchangeTypeV1.AGGRESSIVE) {
        if (!this.#aggressive.take(ctx.now)) {
          this.#drop(ctx, "aggressive-rate", from, "Aggressive Mode rate limit; message 1 dropped");
          return;
        }
        if (admit.evict !== undefined) this.#removeSa(ctx, admit.evict, "replaced (source full)");
        sa = aggressiveMode1(ctx, header, msg, a);
      } else {
        this.#drop(
          ctx,
          "no-cookie",
          from,
          `exchange ${
            nameOf(ExchangeTypeV1, header.exchangeType)
          } without a responder cookie; dropped`,
        );
        return;
      }
      if (sa !== undefined) ctx.addSa(sa, idx);
      return;
    }
    const sa = this.#sas.get(saKey(header.spiI, header.spiR));
    if (sa === undefined) {
      this.#drop(ctx, "no-sa", from, "INVALID_COOKIE: no IKE SA for these cookies; dropped", {
        exchange: nameOf(ExchangeTypeV1, header.exchangeType),
      });
      return;
    }
    if (
      header.messageId === 0 && isRetransmit(ctx.crypto, sa.lastRequest, a.datagram)
    ) {
      this.#resend(ctx, sa);
      return;
    }
    if (
      a.remote.address !== sa.remote.address && a.local.port !== ctx.policy.config.gateway.natt_port
    ) {
      this.#drop(
        ctx,
        "wrong-address",
        sa.peerName,
        `message for this IKE SA from another address ${from}; dropped`,
      );
      return;
    }
    switch (header.exchangeType) {
      case ExchangeTypeV1.IDENTITY_PROTECTION:
        if (sa.mode !== "main" || header.messageId !== 0) break;
        mainModeNext(ctx, sa, msg, a);
        if (sa.state === "ESTABLISHED") this.#halfOpen.remove(sa);
        return;
      case ExchangeTypeV1.AGGRESSIVE:
        if (sa.mode !== "aggressive" || header.messageId !== 0) break;
        aggressiveMode3(ctx, sa, msg, a);
        if (sa.state === "ESTABLISHED") this.#halfOpen.remove(sa);
        return;
      case ExchangeTypeV1.INFORMATIONAL:
        // RFC 3947 §4: the mapping follows only an authenticated, fresh message.
        handleInformational(ctx, sa, msg, () => followNatMapping(ctx, sa, a));
        return;
      case ExchangeTypeV1.QUICK_MODE:
        dispatchQuickMode(ctx, sa, msg, a);
        return;
      default:
        break;
    }
    ctx.event(
      "warn",
      sa.peerName,
      `unexpected ${
        nameOf(ExchangeTypeV1, header.exchangeType)
      } message in state ${sa.state}; dropped`,
      {
        messageId: header.messageId,
      },
    );
  }

  /** Our own SA still in Phase 1 that a message with these cookies belongs to, if any. */
  #initiating(spiI: Uint8Array, spiR: Uint8Array): IkeSa | undefined {
    const mine = (sa: IkeSa | undefined) =>
      sa !== undefined && sa.role === "initiator" && sa.state !== "ESTABLISHED" ? sa : undefined;
    return mine(this.#sas.get(saKey(spiI, spiR))) ??
      mine(this.#sas.get(saKey(spiI, new Uint8Array(8))));
  }

  // ---- initiator ----

  #initiate(ctx: ExchangeContext, name: string, remote: string): void {
    const peer = this.#policy.config.peer.find((p) => p.name === name);
    const ip = parseIp(remote);
    const fail = (why: string) => {
      ctx.event("warn", name, `cannot initiate: ${why}`);
      ctx.emit({ kind: "connection", peer: name, event: "failed", reason: why });
    };
    if (peer === undefined) return fail("no such peer");
    if (ip === undefined) return fail(`'${remote}' is not an IP address`);
    const v6 = ip.length === 16;
    const listen = this.#policy.config.gateway.listen;
    const local = listen.find((l) => (parseIp(l)?.length === 16) === v6);
    if (local === undefined) return fail(`no listen address of ${v6 ? "IPv6" : "IPv4"}`);
    const busy = this.#sas.byPeer(name).some((s) =>
      s.role === "initiator" && s.state !== "ESTABLISHED"
    );
    if (busy) return;
    const port = this.#policy.config.gateway.ike_port;
    const sa = startPhase1Initiator(
      ctx,
      peer,
      { address: local, port },
      { address: remote, port: 500 },
      this.#liveSa(name) === undefined,
    );
    this.#sas.set(sa.key, sa);
  }

  /**
   * Our Phase 1 just completed: when re-authenticating, the children stay and the peer is up;
   * otherwise (INITIAL-CONTACT sent: the peer dropped whatever it had) our old children of the
   * peer go and a Quick Mode starts. The IKE SA is re-authenticated before it expires.
   */
  #afterPhase1(ctx: ExchangeContext, sa: IkeSa): void {
    if (!isEstablished(sa) || sa.role !== "initiator") return;
    const peer = sa.peer;
    const life = sa.alg.lifetimeSeconds;
    const margin = Math.min(peer.rekey_margin, Math.floor(life / 2));
    const jitter = (this.#random(1)[0]! / 256) * (margin / 4);
    sa.rekeyAt = sa.established + (life - margin - jitter) * 1000;
    if (!sa.initialContact && this.#phase2.childCount(peer.name) > 0) {
      ctx.emit({ kind: "connection", peer: peer.name, event: "up", reason: "" });
      return;
    }
    if (sa.initialContact) this.#phase2.deletePeer(ctx.host, peer.name, false);
    this.#phase2.initiate(ctx.host, qmView(sa), ctx.now);
  }

  /** Outcomes of our Quick Modes: up, or (for a first child) the IKE SA goes and we failed. */
  #qmOutcomes(ctx: ExchangeContext): void {
    for (const o of this.#phase2.outcomes()) {
      if (o.kind === "child") {
        ctx.emit({ kind: "connection", peer: o.child.peer, event: "up", reason: "" });
        continue;
      }
      if (this.#phase2.childCount(o.peer) > 0) continue;
      ctx.failure(o.peer, o.why);
      ctx.emit({ kind: "connection", peer: o.peer, event: "failed", reason: o.why });
      const sa = this.#sas.get(o.saKey);
      if (sa === undefined) continue;
      this.#sendInformational(sa, isakmpDelete(sa));
      this.#removeSa(ctx, sa, `Quick Mode failed: ${o.why}`);
    }
  }

  #resend(ctx: ExchangeContext, sa: IkeSa): void {
    if (sa.lastResponse === undefined) return;
    ctx.emit({ kind: "send", datagram: sa.lastResponse, local: sa.local, remote: sa.remote });
    ctx.event("debug", sa.peerName, "retransmitted request: previous response sent again");
  }

  // ---- timers ----

  #tick(ctx: ExchangeContext): void {
    const now = ctx.now;
    this.#drops.summarize(ctx, now);
    for (const sa of this.#allSas()) {
      if (sa.state !== "ESTABLISHED" && sa.request !== undefined) {
        // RFC 7296 §2.1 pacing for our Phase 1 requests (retransmit.ts); it also bounds our own
        // half-open SAs instead of HALF_OPEN_MS.
        const step = retransmitStep(sa.request, now);
        if (step === "resend") {
          ctx.emit({
            kind: "send",
            datagram: sa.request.datagram,
            local: sa.local,
            remote: sa.remote,
          });
        } else if (step === "giveUp") {
          ctx.event("warn", sa.peerName, `no answer in state ${sa.state}; attempt abandoned`);
          // Main Mode message 5 unanswered: the responder could not decrypt it (RFC 2409 §5).
          const why = sa.state === "MM_I5"
            ? "no answer to Main Mode message 5 (wrong PSK?)"
            : `no answer from the peer (${sa.state})`;
          ctx.failure(sa.peerName, why);
          this.#removeSa(ctx, sa, why);
        }
        continue;
      }
      if (sa.state !== "ESTABLISHED") {
        if (now - sa.created >= HALF_OPEN_MS) {
          ctx.event(
            "warn",
            sa.peerName,
            `Phase 1 not completed within ${HALF_OPEN_MS / 1000} s (state ${sa.state}); dropped`,
          );
          ctx.failure(sa.peerName, `Phase 1 timed out in ${sa.state}`);
          this.#removeSa(ctx, sa, "half-open timeout");
        }
        continue;
      }
      for (const [mid, m] of sa.messages) {
        if (now - m.touched > MESSAGE_ID_KEEP_MS) sa.messages.delete(mid);
      }
      const exp = sa.expires;
      if (exp !== undefined && now >= exp) {
        ctx.event("info", sa.peerName, "IKE SA lifetime expired; deleted");
        this.#sendInformational(sa, isakmpDelete(sa));
        this.#removeSa(ctx, sa, "lifetime expired");
        continue;
      }
      this.#dpd(ctx, sa);
      this.#reauth(ctx, sa);
    }
    this.#phase2.tick(ctx.host, now);
  }

  /**
   * Our IKE SA nears its end: a new Phase 1 (re-authentication) replaces it; the Quick Mode
   * SAs stay (RFC 2409 §5.5: they do not depend on the ISAKMP SA that made them).
   */
  #reauth(ctx: ExchangeContext, sa: IkeSa): void {
    if (sa.role !== "initiator" || sa.rekeyAt === 0 || ctx.now < sa.rekeyAt) return;
    if (sa.state !== "ESTABLISHED" || sa.peer === undefined) return;
    sa.rekeyAt = 0;
    ctx.event("info", sa.peerName, "IKE SA re-authentication before expiry");
    const newer = startPhase1Initiator(
      ctx,
      sa.peer,
      sa.local.port === ctx.policy.config.gateway.natt_port
        ? { address: sa.local.address, port: ctx.policy.config.gateway.ike_port }
        : sa.local,
      { address: sa.remote.address, port: 500 },
      false,
    );
    this.#sas.set(newer.key, newer);
  }

  /** RFC 3706 §5 via dpd.ts: probe an idle peer; a silent one is dead and its SAs go. */
  #dpd(ctx: ExchangeContext, sa: IkeSa): void {
    const step = dpdStep(sa, ctx.now);
    const peer = sa.peer;
    if (step === undefined || peer === undefined) return;
    if (step === "probe") {
      this.#sendInformational(sa, startProbe(sa, ctx.now));
      return;
    }
    ctx.event("warn", peer.name, `dead peer: no answer for ${peer.dpd_timeout} s; SAs deleted`);
    ctx.failure(peer.name, "dead peer detected");
    this.#phase2.deletePeer(ctx.host, peer.name, false);
    for (const o of this.#sas.byPeer(peer.name)) this.#removeSa(ctx, o, "dead peer");
  }

  #nextDeadline(): number | undefined {
    let at: number | undefined;
    const take = (t: number | undefined) => {
      if (t !== undefined && (at === undefined || t < at)) at = t;
    };
    for (const sa of this.#sas.values()) {
      if (sa.state !== "ESTABLISHED") {
        take(sa.request === undefined ? sa.created + HALF_OPEN_MS : sa.request.due);
        continue;
      }
      take(sa.expires);
      take(dpdDeadline(sa));
      if (sa.rekeyAt !== 0) take(sa.rekeyAt);
    }
    take(this.#phase2.nextDeadline());
    take(this.#drops.summaryDue);
    return at;
  }
}
