/**
 * The IKEv2 engine (sans-I/O, src/ike/actions.ts), responder side: routes each datagram by
 * SPIs and exchange type to its task (ike_sa_init.ts, ike_auth.ts, create_child_sa.ts,
 * informational.ts), keeps the IKE SA table, enforces message IDs with a window of one and
 * answers retransmitted requests from the stored response (RFC 7296 §2.1–§2.3), verifies and
 * decrypts SK/SKF payloads before anything moves (protect.ts, fragments.ts), follows the NAT
 * mapping only after a message authenticated (§2.23), and runs the timers: half-open expiry,
 * IKE SA lifetime, liveness checks (§1.4, a dead peer's SAs are removed) and retransmissions of
 * our own requests. Dialling (IKE_SA_INIT and IKE_AUTH as initiator) is initiator/dialer.ts;
 * the SAs it makes join the same table. Children live in the store shared with IKEv1.
 * @module
 */

import { getCrypto } from "../../crypto/registry.ts";
import type { EspLifetimeEvent } from "../../esp/sa_spec.ts";
import type { PeerConfig } from "../../config/schema.ts";
import type { LogFields, LogLevel } from "../../log.ts";
import type { Endpoint, IkeAction, IkeEngine, IkePolicy } from "../actions.ts";
import type { ChildStore } from "../child/store.ts";
import { newChildStore } from "../child/store.ts";
import { spiBytes } from "../child/spi.ts";
import { DropCounters, LogLimiter, TokenBucket } from "../drops.ts";
import { decodeHeader, FlagV2, type IsakmpHeader } from "../message/header.ts";
import { decodeV2Message, encodeV2Message, type MessageV2 } from "../message/v2/message.ts";
import { nameOf } from "../message/names.ts";
import { ExchangeTypeV2, NotifyTypeV2, ProtocolV2 } from "../message/v2/registry.ts";
import type { DecodedPayloadV2, PayloadV2 } from "../message/v2/types.ts";
import { hex } from "../sa.ts";
import type { ChildSaView, IkeSaView, PeerStateView } from "../views.ts";
import { type AnswerV2, notify, type RequestV2, type V2Context, type V2Crypto } from "./context.ts";
import { CookieJar } from "./cookie.ts";
import { respondCreateChildSa } from "./create_child_sa.ts";
import { type FragmentDirection, FragmentQueues } from "./fragments.ts";
import { respondIkeAuth } from "./ike_auth.ts";
import { respondIkeSaInit } from "./ike_sa_init.ts";
import { respondInformational } from "./informational.ts";
import { decodeInner } from "./protect.ts";
import { RekeyV2 } from "./rekey.ts";
import type { IkeSaV2 } from "./sa.ts";
import { ikeSaViewV2 } from "./views.ts";
import { V2Dialer } from "./initiator/dialer.ts";
import { deadPeerAfterMs } from "./liveness.ts";
import { IkeSaTable, type VersionSas } from "../ike_sa_table.ts";

/** Half-open IKE SAs are dropped after this long (ms). */
export const HALF_OPEN_MS = 30_000;
/** Default number of half-open SAs from which IKE_SA_INIT needs a COOKIE (RFC 7296 §2.6). */
export const COOKIE_THRESHOLD = 64;
/** At most this many half-open SAs in all (beyond it IKE_SA_INIT is dropped). */
export const MAX_HALF_OPEN = 1024;
/** Largest datagram we send before fragmenting (RFC 7383 §2.5.1: 1280 minus IP/UDP). */
export const MAX_DATAGRAM = 1232;
/** Removals that mean an established tunnel was lost (the connection manager re-dials). */
const LOSSES = new Set([
  "dead peer",
  "deleted by the peer",
  "lifetime expired (the initiator did not rekey)",
  "no CHILD_SA left",
]);
/** First retransmission of our own requests (ms); doubles each time (RFC 7296 §2.1). */
const RETRANSMIT_MS = 2_000;

/** Why an authenticated request is rejected in its entirety (see `#rejected`). */
type Rejected =
  | { readonly reject: "critical"; readonly type: number }
  | { readonly reject: "syntax"; readonly reason: string };

/** Optional collaborators. */
export interface V2Deps {
  /** Crypto; the process registry by default. */
  readonly crypto?: V2Crypto;
  /** Child SAs and SPIs shared with IKEv1; a private store by default. */
  readonly children?: ChildStore;
  /** Half-open SAs from which a COOKIE is required. */
  readonly cookieThreshold?: number;
  /** Largest datagram we send before fragmenting; {@link MAX_DATAGRAM} by default. */
  readonly maxDatagram?: number;
  /** The IKE SA table shared with IKEv1; a private one by default. */
  readonly sas?: IkeSaTable;
}

/** The IKEv2 engine. */
export class IkeV2Engine implements IkeEngine {
  #policy: IkePolicy;
  readonly #crypto: V2Crypto;
  readonly #store: ChildStore;
  readonly #cookieThreshold: number;
  #cookies: CookieJar | undefined;
  /** The shared IKE SA table (both versions); this engine files its SAs under `v2`. */
  readonly #table: IkeSaTable;
  /** This version's part of {@link #table}. */
  readonly #sas: VersionSas<IkeSaV2>;
  /** Half-open SAs by "SPIi|address:port" (IKE_SA_INIT retransmissions). */
  readonly #init = new Map<string, IkeSaV2>();
  /** Incomplete fragmented requests and responses (RFC 7383), bounded. */
  readonly #frags = new FragmentQueues();
  readonly #maxDatagram: number;
  readonly #failures = new Map<string, string>();
  /** Unauthenticated input dropped, by reason (`show drops`). */
  readonly #drops = new DropCounters("IKEv2");
  /** Unprotected answers to unauthenticated input (INVALID_IKE_SPI, INVALID_SYNTAX, …). */
  readonly #notifies = new TokenBucket(20, 40);
  /** Lines about refused IKE_SA_INITs: one per peer and kind a minute. */
  readonly #refusals = new LogLimiter();
  readonly #dialer: V2Dialer;
  /** Rekeys of our own and their collisions (rekey.ts). */
  readonly #rekey: RekeyV2;
  #out: IkeAction[] = [];

  /** An engine for the IKEv2 peers of `policy`. */
  constructor(policy: IkePolicy, deps: V2Deps = {}) {
    this.#policy = policy;
    this.#crypto = deps.crypto ?? getCrypto();
    const crypto = this.#crypto;
    this.#store = deps.children ?? newChildStore((n) => crypto.randomBytes(n));
    this.#cookieThreshold = deps.cookieThreshold ?? COOKIE_THRESHOLD;
    this.#table = deps.sas ?? new IkeSaTable();
    this.#sas = this.#table.v2;
    this.#maxDatagram = deps.maxDatagram ?? MAX_DATAGRAM;
    this.#dialer = new V2Dialer({ maxDatagram: this.#maxDatagram });
    this.#rekey = new RekeyV2(
      (ctx, sa, exchange, payloads, purpose) =>
        this.#request(ctx, sa, payloads, purpose, false, exchange),
      (n) => crypto.randomBytes(n),
    );
  }

  // ---- IkeEngine ----

  /** {@inheritDoc IkeEngine.handle} */
  handle(datagram: Uint8Array, local: Endpoint, remote: Endpoint, now: number): IkeAction[] {
    return this.#run(now, (ctx) => this.#handle(ctx, datagram, local, remote));
  }

  /** {@inheritDoc IkeEngine.tick} */
  tick(now: number): IkeAction[] {
    return this.#run(now, (ctx) => this.#tick(ctx));
  }

  /** {@inheritDoc IkeEngine.espLifetime} */
  espLifetime(event: EspLifetimeEvent, now: number): IkeAction[] {
    return this.#run(now, (ctx) => {
      const child = this.#store.children.get(event.childId);
      if (child === undefined) return;
      if (event.kind === "soft") {
        // RFC 7296 §2.8: either side rekeys; rekey.ts starts ours (make-before-break).
        const sa = this.#sas.get(child.ikeSa);
        if (sa?.state.kind === "established") {
          this.#rekey.childSoft(ctx, sa, sa.state.peer, child);
        }
        return;
      }
      const r = this.#store.children.expired(event.childId, event.spi, event.direction);
      if (r.child === undefined) return;
      for (const a of r.actions) ctx.emit(a);
      ctx.event("info", child.peer, "CHILD_SA expired (hard lifetime)", { childId: child.childId });
      const sa = this.#sas.get(child.ikeSa);
      if (sa?.state.kind === "established") {
        // Sent now, or once our request in flight is answered (window 1).
        const peer = sa.state.peer;
        this.#rekey.deleteGone(ctx, sa, peer, spiBytes(child.inbound.spi));
        // A `start` peer's tunnel stays up: its last child is made again after the Delete.
        if (peer.start_action === "start" && this.#store.children.forIkeSa(sa.key).length === 0) {
          this.#rekey.remake(ctx, sa, peer, "the last CHILD_SA expired");
        }
      }
    });
  }

  /** {@inheritDoc IkeEngine.initiate} */
  initiate(peer: string, remote: string, now: number): IkeAction[] {
    return this.#run(now, (ctx) => this.#dialer.initiate(ctx, peer, remote));
  }

  /** {@inheritDoc IkeEngine.setPolicy} */
  setPolicy(policy: IkePolicy, now: number): IkeAction[] {
    return this.#run(now, (ctx) => {
      const old = this.#policy;
      const gwKey = (p: IkePolicy) => {
        const g = p.config.gateway;
        return JSON.stringify([g.listen, g.ike_port, g.natt_port, g.local_id ?? ""]);
      };
      const gwChanged = gwKey(old) !== gwKey(policy);
      this.#policy = policy;
      for (const p of old.config.peer) {
        const after = policy.config.peer.find((q) => q.name === p.name);
        if (gwChanged || JSON.stringify(p) !== JSON.stringify(after)) {
          this.#dialer.cancel(ctx, p.name, "configuration changed");
        }
      }
      for (const sa of this.#sas.values()) {
        const name = sa.peer?.name;
        if (name === undefined) {
          if (gwChanged) this.#remove(ctx, sa, "gateway settings changed", false);
          continue;
        }
        const before = old.config.peer.find((p) => p.name === name);
        const after = policy.config.peer.find((p) => p.name === name);
        const changed = after === undefined || gwChanged ||
          JSON.stringify(before) !== JSON.stringify(after) ||
          !old.credentials.sameFor(name, policy.credentials);
        if (changed) {
          ctx.event(
            "info",
            name,
            after === undefined ? "peer removed: SAs deleted" : "peer changed: SAs deleted",
          );
          this.#remove(ctx, sa, "configuration changed", true);
        } else if (sa.state.kind === "established") {
          sa.state = { ...sa.state, peer: after };
        }
      }
    });
  }

  /** {@inheritDoc IkeEngine.deletePeer} */
  deletePeer(peer: string, now: number): IkeAction[] {
    return this.#run(now, (ctx) => {
      this.#dialer.cancel(ctx, peer, "deleted locally");
      for (const sa of this.#sas.byPeer(peer)) this.#remove(ctx, sa, "deleted locally", true);
    });
  }

  /** {@inheritDoc IkeEngine.shutdown} */
  shutdown(now: number): IkeAction[] {
    return this.#run(now, (ctx) => {
      this.#dialer.cancel(ctx, undefined, "shutdown");
      for (const sa of this.#sas.values()) this.#remove(ctx, sa, "shutdown", true);
    });
  }

  /** {@inheritDoc IkeEngine.ikeSas} */
  ikeSas(now: number): IkeSaView[] {
    return this.#sas.values().map((sa) => {
      const at = this.#rekey.ikeRekeyAt(sa);
      const v = ikeSaViewV2(sa, now);
      return at === undefined
        ? v
        : { ...v, rekeySeconds: Math.max(0, Math.floor((at - now) / 1000)) };
    });
  }

  /** {@inheritDoc IkeEngine.childSas} */
  childSas(now: number): ChildSaView[] {
    const mine = new Set(this.#policy.config.peer.map((p) => p.name));
    return this.#store.children.views(now).filter((c) => mine.has(c.peer));
  }

  /** {@inheritDoc IkeEngine.drops} */
  drops(): ReadonlyMap<string, number> {
    return this.#drops.totals();
  }

  /** {@inheritDoc IkeEngine.peerStates} */
  peerStates(_now: number): PeerStateView[] {
    return this.#policy.config.peer.map((p) => {
      const mine = this.#sas.byPeer(p.name);
      const children = this.#store.children.forPeer(p.name).length;
      const up = mine.some((s) => s.state.kind === "established") && children > 0;
      return {
        name: p.name,
        state: up
          ? "up"
          : mine.length > 0 || this.#dialer.connecting(p.name)
          ? "connecting"
          : "down",
        ikeSas: mine.length,
        childSas: children,
        detail: up ? "" : this.#failures.get(p.name) ?? "",
      };
    });
  }

  /** The earliest deadline (ms) of this engine, for the dispatcher's one timer. */
  nextDeadline(): number | undefined {
    let at: number | undefined;
    const take = (t: number | undefined) => {
      if (t !== undefined && (at === undefined || t < at)) at = t;
    };
    take(this.#drops.summaryDue);
    take(this.#dialer.deadline());
    for (const sa of this.#sas.values()) {
      if (this.#dialer.awaitsAuth(sa)) continue;
      if (sa.state.kind !== "established") {
        take(sa.created + HALF_OPEN_MS);
        continue;
      }
      take(sa.expiresAt);
      take(sa.outstanding?.nextAt);
      if (sa.outstanding !== undefined) {
        take(sa.outstanding.firstSent + deadPeerAfterMs(sa.state.peer));
      }
      take(this.#rekey.deadline(sa));
      const d = sa.state.peer.dpd_delay;
      if (d > 0 && sa.outstanding === undefined) take(sa.lastSeen + d * 1000);
    }
    return at;
  }

  // ---- plumbing ----

  #run(now: number, body: (ctx: V2Context) => void): IkeAction[] {
    this.#out = [];
    const ctx = this.#context(now);
    try {
      body(ctx);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      ctx.event("error", "-", `internal error in the IKEv2 engine: ${msg}`);
    }
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #context(now: number): V2Context {
    const emit = (a: IkeAction) => void this.#out.push(a);
    const event = (level: LogLevel, peer: string, message: string, fields: LogFields = {}) =>
      emit({ kind: "event", level, peer, message, fields });
    const ctx: V2Context = {
      now,
      policy: this.#policy,
      crypto: this.#crypto,
      store: this.#store,
      emit,
      event,
      drop: (reason, who, message, fields) =>
        this.#drops.drop({ event }, now, reason, who, message, fields),
      unprotected: (datagram, local, remote, requestLength) => {
        if (datagram.length > requestLength || !this.#notifies.take(now)) return false;
        emit({ kind: "send", datagram, local, remote });
        return true;
      },
      refusal: (level, peer, kind, message, fields) =>
        event(this.#refusals.level(`${peer}|${kind}`, now, level), peer, message, fields),
      failure: (peer, why) => void this.#failures.set(peer, why),
      peerSas: (peer) => this.#sas.byPeer(peer),
      addSa: (sa) => void this.#sas.set(sa.key, sa),
      removeSa: (sa, why, notify) => this.#remove(ctx, sa, why, notify),
    };
    return ctx;
  }

  #remove(ctx: V2Context, sa: IkeSaV2, why: string, notifyPeer: boolean): void {
    if (!this.#sas.has(sa.key)) return;
    if (notifyPeer && sa.state.kind === "established") {
      // RFC 7296 §1.4.1: deleting the IKE SA deletes its children implicitly.
      this.#request(
        ctx,
        sa,
        [{ kind: "d", protocol: ProtocolV2.IKE, spiSize: 0, spis: [] }],
        "delete-ike",
        true,
      );
    }
    this.#sas.delete(sa.key);
    sa.sk.dispose();
    this.#frags.forget(sa.key);
    this.#rekey.forget(ctx, sa.key);
    for (const [k, v] of this.#init) if (v === sa) this.#init.delete(k);
    for (const c of this.#store.children.forIkeSa(sa.key)) {
      for (const a of this.#store.children.remove(c.childId)) ctx.emit(a);
      ctx.event("info", c.peer, "CHILD_SA removed with its IKE SA", { childId: c.childId });
    }
    const wasUp = sa.state.kind === "established";
    const ours = this.#dialer.awaitsAuth(sa);
    const name = sa.peerName;
    this.#dialer.forget(ctx, sa);
    sa.state = { kind: "deleted" };
    ctx.event(wasUp ? "info" : "debug", name, `IKE SA removed: ${why}`, {
      spis: `${hex(sa.spiI)}:${hex(sa.spiR)}`,
    });
    // For the connection manager: our attempt failed, or an established tunnel was lost.
    if (ours) {
      ctx.emit({ kind: "connection", peer: name, event: "failed", reason: why });
    } else if (wasUp && LOSSES.has(why)) {
      const other = this.#sas.byPeer(name).some((s) => s.state.kind === "established");
      if (!other) ctx.emit({ kind: "connection", peer: name, event: "down", reason: why });
    }
  }

  /** Sends datagrams for `sa` on its current endpoints. */
  #send(ctx: V2Context, sa: IkeSaV2, datagrams: readonly Uint8Array[]): void {
    for (const d of datagrams) {
      ctx.emit({ kind: "send", datagram: d, local: sa.local, remote: sa.remote });
    }
  }

  /**
   * Sends a request of ours on `sa` (Delete, liveness check, a rekey of rekey.ts): window 1,
   * so while one is outstanding a new one is not sent (a Delete on removal is sent without
   * waiting). Returns its message ID, or undefined when not sent.
   */
  #request(
    ctx: V2Context,
    sa: IkeSaV2,
    payloads: readonly PayloadV2[],
    purpose: "liveness" | "delete-ike" | "delete" | "rekey",
    force = false,
    exchangeType: number = ExchangeTypeV2.INFORMATIONAL,
  ): number | undefined {
    if (sa.outstanding !== undefined && !force) {
      ctx.event("debug", sa.peerName, `${purpose} request deferred: a request is outstanding`);
      return undefined;
    }
    const messageId = sa.nextOwnMid++;
    const datagrams = sa.sk.seal(
      {
        spiI: sa.spiI,
        spiR: sa.spiR,
        exchangeType,
        flags: sa.ownFlags,
        messageId,
      },
      payloads,
      this.#maxDatagram,
      sa.fragmentation,
    );
    this.#send(ctx, sa, datagrams);
    if (purpose === "delete-ike") return messageId;
    sa.outstanding = {
      messageId,
      purpose: purpose === "liveness" || purpose === "rekey" ? purpose : "delete",
      datagrams,
      firstSent: ctx.now,
      tries: 0,
      nextAt: ctx.now + RETRANSMIT_MS,
    };
    return messageId;
  }

  // ---- input ----

  #handle(ctx: V2Context, datagram: Uint8Array, local: Endpoint, remote: Endpoint): void {
    const from = remote.address;
    const h = decodeHeader(datagram);
    if (!h.ok) {
      ctx.drop("undecodable", from, `IKE datagram dropped: ${h.error.message}`);
      return;
    }
    if (h.value.majorVersion > 2) {
      this.#invalidMajor(ctx, h.value, local, remote);
      return;
    }
    const decoded = decodeV2Message(datagram);
    if (!decoded.ok) {
      const e = decoded.error;
      ctx.drop("malformed", from, `IKEv2 message dropped: ${e.message}`, {
        exchange: nameOf(ExchangeTypeV2, h.value.exchangeType),
      });
      const isInit = h.value.exchangeType === ExchangeTypeV2.IKE_SA_INIT &&
        (h.value.flags & FlagV2.RESPONSE) === 0;
      if (isInit && e.code === "unsupported-critical" && e.payloadType !== undefined) {
        // RFC 7296 §2.5: name the critical payload type we do not support.
        const answer = encodeV2Message({
          spiI: h.value.spiI,
          spiR: new Uint8Array(8),
          exchangeType: ExchangeTypeV2.IKE_SA_INIT,
          flags: FlagV2.RESPONSE,
          messageId: 0,
        }, [notify(NotifyTypeV2.UNSUPPORTED_CRITICAL_PAYLOAD, Uint8Array.of(e.payloadType))]);
        ctx.unprotected(answer, local, remote, datagram.length);
      }
      return;
    }
    const msg = decoded.value;
    const hd = msg.header;
    const isResponse = (hd.flags & FlagV2.RESPONSE) !== 0;
    if (hd.exchangeType === ExchangeTypeV2.IKE_SA_INIT) {
      if (isResponse) {
        this.#dialer.initResponse(ctx, datagram, msg, remote);
        return;
      }
      this.#init1(ctx, datagram, msg, local, remote);
      return;
    }
    const sa = this.#sas.get(`${hex(hd.spiI)}:${hex(hd.spiR)}`);
    if (sa === undefined) {
      this.#unknownSpi(ctx, datagram, hd, local, remote);
      return;
    }
    if (isResponse) {
      if (this.#dialer.awaitsAuth(sa)) {
        if (hd.exchangeType !== ExchangeTypeV2.IKE_AUTH) return;
        if (hd.messageId !== sa.nextOwnMid - 1) {
          ctx.drop("no-request", sa.peerName, "IKE_AUTH response to no request of ours dropped");
          return;
        }
        // An answer with a critical payload we do not know cannot be used: it counts as lost.
        const opened = this.#open(ctx, sa, datagram, msg, "response");
        if (opened !== undefined && !("reject" in opened)) {
          this.#dialer.authResponse(ctx, sa, hd.messageId, opened);
        }
        return;
      }
      this.#response(ctx, sa, datagram, msg);
      return;
    }
    const mid = hd.messageId;
    if (
      sa.lastResponse !== undefined && mid === sa.lastResponse.messageId && mid < sa.expectedMid
    ) {
      // RFC 7296 §2.1: a retransmitted request gets the same answer (RFC 7383 §2.6.1: the
      // whole answer again, once per retransmission of the first fragment).
      const enc = msg.encrypted;
      if (enc === undefined || enc.kind === "sk" || enc.fragmentNumber === 1) {
        this.#send(ctx, sa, sa.lastResponse.datagrams);
        ctx.event("debug", sa.peerName, "retransmitted request answered again", { messageId: mid });
      }
      return;
    }
    if (mid !== sa.expectedMid) {
      ctx.drop(
        "message-id",
        sa.peerName,
        `request with message ID ${mid} dropped (expected ${sa.expectedMid})`,
      );
      return;
    }
    const opened = this.#open(ctx, sa, datagram, msg, "request");
    if (opened === undefined) return;
    // Authenticated: now the peer may move (RFC 7296 §2.23: follow the NAT mapping).
    sa.lastSeen = ctx.now;
    this.#follow(ctx, sa, local, remote);
    const answer = "reject" in opened
      ? this.#rejected(ctx, sa, hd.exchangeType, opened)
      : this.#dispatch(ctx, sa, {
        exchange: hd.exchangeType,
        messageId: mid,
        payloads: opened,
        local,
        remote,
      });
    if (answer === undefined) return;
    const datagrams = sa.sk.seal(
      {
        spiI: sa.spiI,
        spiR: sa.spiR,
        exchangeType: hd.exchangeType,
        flags: FlagV2.RESPONSE | sa.ownFlags,
        messageId: mid,
      },
      answer.payloads,
      this.#maxDatagram,
      sa.fragmentation,
    );
    sa.lastResponse = { messageId: mid, datagrams };
    sa.expectedMid = mid + 1;
    answer.install?.();
    this.#send(ctx, sa, datagrams);
    answer.after?.();
    if (hd.exchangeType === ExchangeTypeV2.CREATE_CHILD_SA) {
      this.#rekey.answered(sa, answer.created);
    }
  }

  /**
   * RFC 7296 §2.21.4: a message for an IKE SA we do not know (not an IKE_SA_INIT request) is
   * counted; a request is answered with an unprotected INVALID_IKE_SPI carrying the same SPIs,
   * message ID and exchange type (§1.5), within the notify rate and never larger than the
   * request; a response is never answered.
   */
  #unknownSpi(
    ctx: V2Context,
    datagram: Uint8Array,
    hd: IsakmpHeader,
    local: Endpoint,
    remote: Endpoint,
  ): void {
    ctx.drop("no-sa", remote.address, "IKEv2 message for an unknown IKE SA dropped", {
      exchange: nameOf(ExchangeTypeV2, hd.exchangeType),
    });
    if ((hd.flags & FlagV2.RESPONSE) !== 0) return;
    const answer = encodeV2Message({
      spiI: hd.spiI,
      spiR: hd.spiR,
      exchangeType: hd.exchangeType,
      // We are the original initiator of that SA exactly when the sender is not.
      flags: FlagV2.RESPONSE | ((hd.flags & FlagV2.INITIATOR) === 0 ? FlagV2.INITIATOR : 0),
      messageId: hd.messageId,
    }, [notify(NotifyTypeV2.INVALID_IKE_SPI)]);
    ctx.unprotected(answer, local, remote, datagram.length);
  }

  /**
   * An authenticated request rejected in its entirety (RFC 7296 §2.21.2, §2.21.3): an unknown
   * critical payload gets UNSUPPORTED_CRITICAL_PAYLOAD naming the type (§2.5) — in IKE_AUTH
   * the IKE SA is then not created; a badly formatted message gets INVALID_SYNTAX, fatal in
   * both peers: the IKE SA goes without a Delete.
   */
  #rejected(ctx: V2Context, sa: IkeSaV2, exchange: number, r: Rejected): AnswerV2 {
    const fields = { exchange: nameOf(ExchangeTypeV2, exchange) };
    if (r.reject === "syntax") {
      ctx.event("warn", sa.peerName, `malformed request: ${r.reason}; INVALID_SYNTAX`, fields);
      return {
        payloads: [notify(NotifyTypeV2.INVALID_SYNTAX)],
        after: () => ctx.removeSa(sa, "INVALID_SYNTAX (malformed request)", false),
      };
    }
    ctx.event("warn", sa.peerName, `unsupported critical payload ${r.type} rejected`, fields);
    const payloads = [notify(NotifyTypeV2.UNSUPPORTED_CRITICAL_PAYLOAD, Uint8Array.of(r.type))];
    if (sa.state.kind !== "half-open") return { payloads };
    return {
      payloads,
      after: () => ctx.removeSa(sa, "IKE_AUTH with an unsupported critical payload", false),
    };
  }

  /**
   * RFC 7296 §2.5, §1.5: a request of a higher major version gets INVALID_MAJOR_VERSION in a
   * version 2 message with the same SPIs and message ID; responses are never answered.
   */
  #invalidMajor(ctx: V2Context, h: IsakmpHeader, local: Endpoint, remote: Endpoint): void {
    ctx.drop("bad-version", remote.address, `IKE version ${h.majorVersion}.${h.minorVersion}`, {
      answer: "INVALID_MAJOR_VERSION",
    });
    if ((h.flags & FlagV2.RESPONSE) !== 0) return;
    const datagram = encodeV2Message({
      spiI: h.spiI,
      spiR: h.spiR,
      exchangeType: h.exchangeType,
      flags: FlagV2.RESPONSE,
      messageId: h.messageId,
    }, [notify(NotifyTypeV2.INVALID_MAJOR_VERSION, Uint8Array.of(2 << 4))]);
    ctx.unprotected(datagram, local, remote, Infinity);
  }

  #init1(ctx: V2Context, datagram: Uint8Array, msg: MessageV2, local: Endpoint, remote: Endpoint) {
    const idx = `${hex(msg.header.spiI)}|${remote.address}:${remote.port}`;
    const known = this.#init.get(idx);
    if (known !== undefined && known.state.kind === "half-open") {
      const same = known.state.initRequest.length === datagram.length &&
        known.state.initRequest.every((b, k) => b === datagram[k]);
      if (same && known.lastResponse !== undefined) {
        this.#send(ctx, known, known.lastResponse.datagrams);
        ctx.event("debug", remote.address, "IKE_SA_INIT retransmitted; answered again");
        return;
      }
    } else if (known !== undefined && known.state.kind === "established") {
      // RFC 7296 §2.1: an IKE_SA_INIT of an IKE SA whose IKE_AUTH was received is ignored.
      ctx.drop("duplicate-message-1", remote.address, "IKE_SA_INIT of an established SA ignored");
      return;
    }
    // The limits count half-open SAs of both versions (one IKE SA table).
    const halfOpen = this.#table.halfOpen();
    if (halfOpen >= MAX_HALF_OPEN) {
      ctx.drop("half-open-total", remote.address, "IKE_SA_INIT dropped: too many half-open SAs");
      return;
    }
    this.#cookies ??= new CookieJar((n) => this.#crypto.randomBytes(n), ctx.now);
    const sa = respondIkeSaInit(ctx, {
      datagram,
      msg,
      local,
      remote,
      cookies: this.#cookies,
      halfOpen,
      cookieThreshold: this.#cookieThreshold,
    });
    if (sa !== undefined) this.#init.set(idx, sa);
  }

  /**
   * Verifies and decrypts a request or a response (its message ID already matched): its
   * payloads, why it is rejected as a whole (an unknown critical payload, §2.5, or bad syntax,
   * §2.21.3 — answered after authentication only, for a request), or undefined (counted or
   * logged) when it cannot be trusted or is a fragment of a message not yet complete (RFC 7383
   * §2.6: each fragment authenticated before it is kept, the same reassembly both ways).
   */
  #open(
    ctx: V2Context,
    sa: IkeSaV2,
    datagram: Uint8Array,
    msg: MessageV2,
    direction: FragmentDirection,
  ): readonly DecodedPayloadV2[] | Rejected | undefined {
    const enc = msg.encrypted;
    if (enc === undefined) {
      ctx.drop("unprotected", sa.peerName, `unprotected ${direction} on an IKE SA dropped`, {
        exchange: nameOf(ExchangeTypeV2, msg.header.exchangeType),
      });
      return undefined;
    }
    if (enc.kind === "sk") {
      const raw = sa.sk.openRaw(datagram, enc);
      if (!raw.ok) {
        ctx.drop("unauthenticated", sa.peerName, `protected message dropped: ${raw.reason}`);
        return undefined;
      }
      return this.#inner(enc.next, raw.inner);
    }
    if (!sa.fragmentation) {
      ctx.drop("unprotected", sa.peerName, "IKE fragment dropped: fragmentation not negotiated");
      return undefined;
    }
    const raw = sa.sk.openRaw(datagram, enc);
    if (!raw.ok) {
      ctx.drop("unauthenticated", sa.peerName, `IKE fragment dropped: ${raw.reason}`);
      return undefined;
    }
    const r = this.#frags.add(
      sa.key,
      direction,
      msg.header.messageId,
      enc.fragmentNumber,
      enc.totalFragments,
      enc.next,
      raw.inner,
    );
    if (r.kind === "incomplete") return undefined;
    if (r.kind === "refused") {
      ctx.event("warn", sa.peerName, `IKE fragments dropped: ${r.reason}`);
      return undefined;
    }
    ctx.event("debug", sa.peerName, `fragmented ${direction} reassembled`, {
      fragments: enc.totalFragments,
      messageId: msg.header.messageId,
    });
    return this.#inner(r.first, r.inner);
  }

  /** Decodes authenticated inner payloads (see {@link #open}). */
  #inner(first: number, bytes: Uint8Array): readonly DecodedPayloadV2[] | Rejected {
    const inner = decodeInner(first, bytes);
    if (inner.ok) return inner.payloads;
    if (inner.critical !== undefined) return { reject: "critical", type: inner.critical };
    return { reject: "syntax", reason: inner.reason };
  }

  /** RFC 7296 §2.23: after NAT detection, the SA follows the peer's latest address and port. */
  #follow(ctx: V2Context, sa: IkeSaV2, local: Endpoint, remote: Endpoint): void {
    if (
      sa.local.address === local.address && sa.local.port === local.port &&
      sa.remote.address === remote.address && sa.remote.port === remote.port
    ) return;
    if (!sa.natt && local.port !== this.#policy.config.gateway.natt_port) return;
    sa.local = local;
    sa.remote = remote;
    ctx.event("info", sa.peerName, "IKE SA follows the peer's address and port", {
      remote: `${remote.address}:${remote.port}`,
    });
  }

  #dispatch(ctx: V2Context, sa: IkeSaV2, req: RequestV2): AnswerV2 | undefined {
    const st = sa.state;
    switch (req.exchange) {
      case ExchangeTypeV2.IKE_AUTH:
        if (st.kind === "half-open") return respondIkeAuth(ctx, sa, st, req);
        break;
      case ExchangeTypeV2.CREATE_CHILD_SA:
        if (st.kind === "established") {
          // RFC 7296 §2.25: some requests crossing a rekey of ours get TEMPORARY_FAILURE.
          return this.#rekey.guard(ctx, sa, st.peer, req.payloads) ??
            respondCreateChildSa(ctx, sa, st.peer, req);
        }
        break;
      case ExchangeTypeV2.INFORMATIONAL:
        if (st.kind === "established") {
          return this.#childLoss(ctx, sa, st.peer, respondInformational(ctx, sa, st.peer, req));
        }
        break;
    }
    ctx.event(
      "warn",
      sa.peerName,
      `${nameOf(ExchangeTypeV2, req.exchange)} in state ${sa.stateName} dropped`,
    );
    return undefined;
  }

  /**
   * RFC 7296 §1.3.1: when the peer's Delete leaves an IKE SA of a `start` peer without a
   * CHILD_SA, we make one again (rekey.ts; if refused, the IKE SA goes and is re-dialled).
   * The same follows our own hard expiry of the last child (espLifetime).
   */
  #childLoss(ctx: V2Context, sa: IkeSaV2, peer: PeerConfig, answer: AnswerV2): AnswerV2 {
    const had = this.#store.children.forIkeSa(sa.key).length;
    if (had === 0 || peer.start_action !== "start" || answer.after === undefined) return answer;
    const after = answer.after;
    return {
      ...answer,
      after: () => {
        after();
        const left = this.#store.children.forIkeSa(sa.key).length;
        if (left === 0 && this.#sas.has(sa.key) && sa.state.kind === "established") {
          this.#rekey.remake(ctx, sa, peer, "the peer deleted the last CHILD_SA");
        }
      },
    };
  }

  /** A response to our request (liveness check, Delete, a rekey of rekey.ts). */
  #response(ctx: V2Context, sa: IkeSaV2, datagram: Uint8Array, msg: MessageV2): void {
    const o = sa.outstanding;
    if (o === undefined || msg.header.messageId !== o.messageId) {
      ctx.drop("no-request", sa.peerName, "response to no outstanding request dropped");
      return;
    }
    // RFC 7383: an answer in SKF fragments is reassembled like a request.
    const opened = this.#open(ctx, sa, datagram, msg, "response");
    if (opened === undefined) return;
    if ("reject" in opened) {
      // Authenticated but unusable: counted as lost, so our request is retransmitted.
      const why = opened.reject === "syntax" ? opened.reason : `critical payload ${opened.type}`;
      ctx.drop("malformed", sa.peerName, `protected response dropped: ${why}`);
      return;
    }
    sa.outstanding = undefined;
    sa.lastSeen = ctx.now;
    const st = sa.state;
    if (st.kind === "established") {
      this.#rekey.response(ctx, sa, st.peer, msg.header.messageId, opened);
    }
  }

  // ---- timers ----

  #tick(ctx: V2Context): void {
    const now = ctx.now;
    this.#drops.summarize(ctx, now);
    this.#dialer.tick(ctx);
    for (const sa of this.#sas.values()) {
      if (this.#dialer.awaitsAuth(sa)) continue;
      const st = sa.state;
      if (st.kind !== "established") {
        if (now >= sa.created + HALF_OPEN_MS) this.#remove(ctx, sa, "half-open timeout", false);
        continue;
      }
      if (now >= sa.expiresAt) {
        this.#remove(ctx, sa, "lifetime expired (the initiator did not rekey)", true);
        continue;
      }
      const o = sa.outstanding;
      if (o !== undefined) {
        // RFC 7296 §2.4: the retransmissions' give-up decides that the peer is dead.
        const timeout = deadPeerAfterMs(st.peer);
        if (now - o.firstSent >= timeout) {
          ctx.event(
            "warn",
            st.peer.name,
            `dead peer: no answer for ${Math.round((now - o.firstSent) / 1000)} s; SAs deleted`,
          );
          ctx.failure(st.peer.name, "dead peer detected");
          this.#remove(ctx, sa, "dead peer", false);
          continue;
        }
        if (now >= o.nextAt) {
          o.tries++;
          o.nextAt = now + RETRANSMIT_MS * 2 ** Math.min(o.tries, 5);
          this.#send(ctx, sa, o.datagrams);
        }
        continue;
      }
      if (this.#rekey.tick(ctx, sa, st.peer)) continue;
      const d = st.peer.dpd_delay;
      if (d > 0 && now >= sa.lastSeen + d * 1000) {
        // RFC 7296 §1.4: an empty INFORMATIONAL request checks that the peer is alive.
        this.#request(ctx, sa, [], "liveness");
      }
    }
  }
}
