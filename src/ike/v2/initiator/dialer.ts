/**
 * The IKEv2 engine's initiator side: one attempt per peer, IKE_SA_INIT (sa_init.ts) then
 * IKE_AUTH (auth.ts), each request retransmitted on the shared initiator schedule
 * (src/ike/initiator/retransmit.ts, RFC 7296 §2.1: 1, 2, 4, 8 s, abandoned 16 s after the
 * last) and the outcome reported to the connection manager as a `connection` action. Until
 * IKE_SA_INIT is answered an attempt is keyed by SPIi alone; from then on its IKE SA lives in
 * the engine's table (role "initiator", state half-open) like any other, so the engine's
 * protection, fragment reassembly, liveness checks, Deletes and rekeys apply to it; the engine
 * passes IKE_AUTH answers back here.
 * @module
 */

import type { PeerConfig } from "../../../config/schema.ts";
import type { Endpoint } from "../../actions.ts";
import { hex } from "../../sa.ts";
import { retransmitStep } from "../../initiator/retransmit.ts";
import { RETRANSMIT_FIRST_MS } from "../../initiator/retransmit.ts";
import { parseIp } from "../../../net/addr.ts";
import { ExchangeTypeV2 } from "../../message/v2/registry.ts";
import type { MessageV2 } from "../../message/v2/message.ts";
import type { DecodedPayloadV2 } from "../../message/v2/types.ts";
import type { V2Context } from "../context.ts";
import type { IkeSaV2 } from "../sa.ts";
import { authAnswer, type AuthRequest, authRequest } from "./auth.ts";
import { initAnswer, type InitAttempt, startInit } from "./sa_init.ts";

/** Retransmission bookkeeping of one request (retransmit.ts's schedule). */
interface Pending {
  /** Retransmissions so far. */
  tries: number;
  /** Next action due (ms). */
  due: number;
}

interface InitDial {
  readonly stage: "init";
  readonly a: InitAttempt;
  readonly pending: Pending;
  readonly initialContact: boolean;
  /** The last unauthenticated refusal, reported if nothing better comes. */
  lastError: string | undefined;
}

interface AuthDial {
  readonly stage: "auth";
  readonly peer: PeerConfig;
  readonly sa: IkeSaV2;
  readonly req: AuthRequest;
  readonly datagrams: readonly Uint8Array[];
  readonly pending: Pending;
}

/** What the dialer needs from the engine besides the context. */
export interface DialerHost {
  /** Largest datagram before IKE fragmentation (RFC 7383). */
  readonly maxDatagram: number;
}

/** The IKEv2 initiator's attempts in flight. */
export class V2Dialer {
  readonly #host: DialerHost;
  /** IKE_SA_INIT in flight, by SPIi in hex. */
  readonly #init = new Map<string, InitDial>();
  /** IKE_AUTH in flight, by the IKE SA's key. */
  readonly #auth = new Map<string, AuthDial>();

  /** A dialer sending through `host`'s limits. */
  constructor(host: DialerHost) {
    this.#host = host;
  }

  /** Starts an attempt towards `name` at `remote` (an IP address), port 500. */
  initiate(ctx: V2Context, name: string, remote: string): void {
    const peer = ctx.policy.config.peer.find((p) => p.name === name);
    const fail = (why: string) => this.#failed(ctx, name, why);
    if (peer === undefined) return fail("no such IKEv2 peer");
    const ip = parseIp(remote);
    if (ip === undefined) return fail(`'${remote}' is not an IP address`);
    if (this.connecting(name)) {
      ctx.event("debug", name, "already connecting; initiate ignored");
      return;
    }
    const v6 = ip.length === 16;
    const gw = ctx.policy.config.gateway;
    const address = gw.listen.find((l) => (parseIp(l)?.length === 16) === v6);
    if (address === undefined) return fail(`no listen address of ${v6 ? "IPv6" : "IPv4"}`);
    const local: Endpoint = { address, port: gw.ike_port };
    const a = startInit(ctx, peer, local, { address: remote, port: 500 });
    if (typeof a === "string") return fail(a);
    const initialContact = !ctx.peerSas(name).some((s) => s.state.kind === "established");
    this.#init.set(hex(a.spiI), {
      stage: "init",
      a,
      pending: { tries: 0, due: ctx.now + RETRANSMIT_FIRST_MS },
      initialContact,
      lastError: undefined,
    });
    ctx.emit({ kind: "send", datagram: a.request, local: a.local, remote: a.remote });
    ctx.event("info", name, "initiating IKEv2", { remote });
  }

  /** An IKE_SA_INIT response (any SPIr) for one of our attempts; others are ignored. */
  initResponse(ctx: V2Context, datagram: Uint8Array, msg: MessageV2, remote: Endpoint): void {
    const d = this.#init.get(hex(msg.header.spiI));
    if (d === undefined || remote.address !== d.a.remote.address) {
      ctx.drop("no-request", remote.address, "IKE_SA_INIT response to no attempt of ours dropped");
      return;
    }
    const name = d.a.peer.name;
    const r = initAnswer(ctx, d.a, datagram, msg);
    switch (r.kind) {
      case "ignored":
        ctx.event("debug", name, `IKE_SA_INIT answer ignored: ${r.why}`);
        return;
      case "rejected":
        // RFC 7296 §2.21.1: unauthenticated, so noted; retransmissions go on until give-up.
        if (d.lastError !== r.why) ctx.event("warn", name, `IKE_SA_INIT: ${r.why}`);
        d.lastError = r.why;
        return;
      case "resend":
        d.pending.tries = 0;
        d.pending.due = ctx.now + RETRANSMIT_FIRST_MS;
        ctx.emit({ kind: "send", datagram: d.a.request, local: d.a.local, remote: d.a.remote });
        return;
      case "done":
        this.#init.delete(hex(d.a.spiI));
        this.#startAuth(ctx, d, r.sa);
    }
  }

  #startAuth(ctx: V2Context, d: InitDial, sa: IkeSaV2): void {
    const peer = d.a.peer;
    if (sa.state.kind !== "half-open") return;
    const req = authRequest(ctx, sa, sa.state, peer, d.initialContact);
    if (typeof req === "string") return this.#failed(ctx, peer.name, req);
    const datagrams = sa.sk.seal(
      {
        spiI: sa.spiI,
        spiR: sa.spiR,
        exchangeType: ExchangeTypeV2.IKE_AUTH,
        flags: sa.ownFlags,
        messageId: sa.nextOwnMid++,
      },
      req.payloads,
      this.#host.maxDatagram,
      sa.fragmentation,
    );
    ctx.addSa(sa);
    this.#auth.set(sa.key, {
      stage: "auth",
      peer,
      sa,
      req,
      datagrams,
      pending: { tries: 0, due: ctx.now + RETRANSMIT_FIRST_MS },
    });
    for (const g of datagrams) {
      ctx.emit({ kind: "send", datagram: g, local: sa.local, remote: sa.remote });
    }
  }

  /** Whether `sa` is ours and waits for its IKE_AUTH answer. */
  awaitsAuth(sa: IkeSaV2): boolean {
    return this.#auth.has(sa.key);
  }

  /** The IKE_AUTH answer on `sa` (decrypted and integrity-checked by the engine). */
  authResponse(
    ctx: V2Context,
    sa: IkeSaV2,
    messageId: number,
    payloads: readonly DecodedPayloadV2[],
  ): void {
    const d = this.#auth.get(sa.key);
    if (d === undefined || sa.state.kind !== "half-open" || messageId !== sa.nextOwnMid - 1) {
      ctx.event("debug", sa.peerName, "IKE_AUTH answer to no request of ours dropped");
      return;
    }
    this.#auth.delete(sa.key);
    sa.lastSeen = ctx.now;
    const r = authAnswer(ctx, sa, sa.state, d.peer, d.req, payloads);
    const name = d.peer.name;
    if (r.kind === "up") {
      ctx.emit({ kind: "connection", peer: name, event: "up", reason: "" });
      return;
    }
    ctx.store.spis.release(d.req.inboundSpi);
    ctx.event("warn", name, r.why);
    ctx.failure(name, r.why);
    ctx.emit({ kind: "connection", peer: name, event: "failed", reason: r.why });
    // Not authenticated: just forget it; authenticated without a child: delete it (§1.4.1).
    if (r.kind === "refused") ctx.removeSa(sa, r.why, false);
    else ctx.removeSa(sa, `no CHILD_SA: ${r.why}`, true);
  }

  /** The engine removed `sa` (failure, config change, `clear ike sa`): forget its attempt. */
  forget(ctx: V2Context, sa: IkeSaV2): void {
    const d = this.#auth.get(sa.key);
    if (d === undefined) return;
    this.#auth.delete(sa.key);
    ctx.store.spis.release(d.req.inboundSpi);
  }

  /**
   * Drops the attempts of `peer` (every peer when undefined), reporting them as failed: those
   * in IKE_SA_INIT here, those in IKE_AUTH by removing their SA (the engine reports it).
   */
  cancel(ctx: V2Context, peer: string | undefined, why: string): void {
    for (const [k, d] of [...this.#init]) {
      if (peer !== undefined && d.a.peer.name !== peer) continue;
      this.#init.delete(k);
      this.#failed(ctx, d.a.peer.name, why);
    }
    for (const d of [...this.#auth.values()]) {
      if (peer === undefined || d.peer.name === peer) ctx.removeSa(d.sa, why, false);
    }
  }

  /** Whether an attempt towards `peer` is in flight. */
  connecting(peer: string): boolean {
    for (const d of this.#init.values()) if (d.a.peer.name === peer) return true;
    for (const d of this.#auth.values()) if (d.peer.name === peer) return true;
    return false;
  }

  /** Retransmissions and give-ups due at `ctx.now` (RFC 7296 §2.1). */
  tick(ctx: V2Context): void {
    for (const [k, d] of [...this.#init]) {
      const step = retransmitStep(d.pending, ctx.now);
      if (step === "resend") {
        ctx.emit({ kind: "send", datagram: d.a.request, local: d.a.local, remote: d.a.remote });
      } else if (step === "giveUp") {
        this.#init.delete(k);
        this.#failed(ctx, d.a.peer.name, d.lastError ?? "no answer to IKE_SA_INIT");
      }
    }
    for (const d of [...this.#auth.values()]) {
      const step = retransmitStep(d.pending, ctx.now);
      if (step === "resend") {
        for (const g of d.datagrams) {
          ctx.emit({ kind: "send", datagram: g, local: d.sa.local, remote: d.sa.remote });
        }
      } else if (step === "giveUp") {
        ctx.failure(d.peer.name, "no answer to IKE_AUTH");
        ctx.removeSa(d.sa, "no answer to IKE_AUTH", false);
      }
    }
  }

  /** The earliest retransmission or give-up due (ms). */
  deadline(): number | undefined {
    let at: number | undefined;
    for (const d of [...this.#init.values(), ...this.#auth.values()]) {
      if (at === undefined || d.pending.due < at) at = d.pending.due;
    }
    return at;
  }

  #failed(ctx: V2Context, name: string, why: string): void {
    ctx.event("warn", name, `IKEv2 attempt failed: ${why}`);
    ctx.failure(name, why);
    ctx.emit({ kind: "connection", peer: name, event: "failed", reason: why });
  }
}
