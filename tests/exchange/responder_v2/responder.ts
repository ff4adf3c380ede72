/**
 * A scripted IKEv2 responder (RFC 7296) for exchange tests of this project's initiator,
 * independent of src/ike/: the codec and crypto are the scripted initiator's (tests/exchange/
 * initiator_v2/), and once IKE_SA_INIT is done the IKE SA is held in a {@link V2Initiator}
 * acting as the non-original initiator (it answers INFORMATIONAL and CREATE_CHILD_SA requests
 * and sends its own). Sans-I/O: {@link V2Responder.handle} takes one datagram and returns the
 * datagrams to send back.
 *
 * Covered: IKE_SA_INIT with a COOKIE demand (§2.6) and INVALID_KE_PAYLOAD (§1.2), NAT
 * detection (§2.23); IKE_AUTH with a PSK (§2.15) and its CHILD_SA with narrowed selectors
 * (§2.9); AUTHENTICATION_FAILED (§2.21.2); retransmitted requests answered with the stored
 * response (§2.1).
 * @module
 */

import { createHash } from "node:crypto";
import { AUTH_PSK, Exchange, Flag, IdType, Nt, Proto, Pt, Tt } from "../initiator_v2/consts.ts";
import {
  childKeys,
  dhKey,
  initKeys,
  pskAuth,
  random as nodeRandom,
} from "../initiator_v2/crypto.ts";
import {
  type Child,
  type Ep,
  type Identity,
  natHash,
  type Received,
  V2Initiator,
} from "../initiator_v2/initiator.ts";
import { encrKeyLen, ikeKeySizes, parseSuite, type Suite } from "../initiator_v2/proposals.ts";
import {
  authBody,
  cat,
  decodeHeader,
  decodeMessage,
  encodeMessage,
  hex,
  idBody,
  ip4,
  keBody,
  notify,
  parseKe,
  parseNotify,
  parseSa,
  parseTs,
  type Payload,
  type Proposal,
  saBody,
  type Selector,
  type Transform,
  tsBody,
  u16,
  WireError,
} from "../initiator_v2/wire.ts";

/** Responder settings. */
export interface ResponderOptions {
  /** The pre-shared key we check the initiator's AUTH with. */
  readonly psk: string;
  /** The key our own AUTH is made with (default `psk`; another one makes our AUTH wrong). */
  readonly ownPsk?: string;
  /** Our address and port. */
  readonly self: Ep;
  /** IKE suites we accept, in keyword form (default aes128-sha256-modp2048). */
  readonly ike?: readonly string[];
  /** ESP suites we accept (default aes128gcm16). */
  readonly esp?: readonly string[];
  /** The DH group we insist on when the chosen proposal offers it (INVALID_KE_PAYLOAD). */
  readonly group?: number;
  /** Demand a COOKIE before answering IKE_SA_INIT (§2.6). */
  readonly cookie?: boolean;
  /** IDr (default ID_IPV4_ADDR of `self`). */
  readonly id?: Identity;
  /** TSi to answer instead of the offered one (narrowing, §2.9). */
  readonly tsi?: readonly Selector[];
  /** TSr to answer instead of the offered one. */
  readonly tsr?: readonly Selector[];
  /** Random bytes (default node:crypto). */
  readonly random?: (n: number) => Uint8Array;
}

/** The IKE_AUTH outcome as the responder saw it. */
export interface AuthSeen {
  /** Whether the initiator's AUTH was right. */
  readonly authOk: boolean;
  /** IDi as received (type and data). */
  readonly idi: Identity;
  /** Payload types of the request, in order. */
  readonly types: readonly number[];
}

/** The scripted IKEv2 responder. */
export class V2Responder {
  /** Every IKE_SA_INIT request received, in order. */
  readonly inits: Uint8Array[] = [];
  /** Every IKE_AUTH request datagram received (retransmissions included). */
  readonly auths: Uint8Array[] = [];
  /** What the last IKE_AUTH carried. */
  authSeen: AuthSeen | undefined;
  /** The IKE SA holder once IKE_SA_INIT completed (answers later requests). */
  sa: V2Initiator | undefined;
  /** Responses to our own requests, in order. */
  readonly responses: Received[] = [];
  /** SPIr of the IKE SA. */
  spiR: Uint8Array = new Uint8Array(0);
  readonly #rand: (n: number) => Uint8Array;
  readonly #ike: Suite[];
  readonly #esp: Suite[];
  readonly #secret: Uint8Array;
  #initReq: Uint8Array = new Uint8Array(0);
  #initResp: Uint8Array = new Uint8Array(0);
  #ni: Uint8Array = new Uint8Array(0);
  #nr: Uint8Array = new Uint8Array(0);

  /** A responder waiting for IKE_SA_INIT. */
  constructor(readonly o: ResponderOptions) {
    this.#rand = o.random ?? nodeRandom;
    this.#ike = (o.ike ?? ["aes128-sha256-modp2048"]).map((s) => parseSuite(s, "ike"));
    this.#esp = (o.esp ?? ["aes128gcm16"]).map((s) => parseSuite(s, "esp"));
    this.#secret = this.#rand(16);
  }

  /** The CHILD_SAs in place (ours inbound as `inSpi`). */
  get children(): Child[] {
    return this.sa?.children ?? [];
  }

  /** Takes one datagram from `from`; returns the datagrams to send back. */
  handle(d: Uint8Array, from: Ep): Uint8Array[] {
    const h = decodeHeader(d);
    if (h.exchange === Exchange.IKE_SA_INIT) return this.#init(d, from);
    const sa = this.sa;
    if (sa?.sa === undefined || hex(h.spiI) !== hex(sa.sa.spiI)) return [];
    if ((h.flags & Flag.R) !== 0) {
      const r = sa.readResponse(d);
      if (r !== undefined) this.responses.push(r);
      return [];
    }
    if (h.exchange === Exchange.IKE_AUTH) {
      this.auths.push(d);
      if (h.messageId === 1 && sa.sa.peerMsgId === 1) return this.#auth(d, sa);
    }
    // Retransmissions (§2.1), INFORMATIONAL and CREATE_CHILD_SA requests.
    return sa.respond(d);
  }

  /** A request of ours on the IKE SA (empty INFORMATIONAL: a liveness check). */
  informational(payloads: readonly Payload[] = []): Uint8Array[] {
    return this.#holder().informational(payloads);
  }

  /** Deletes `children` (our inbound SPIs, §1.4.1); they are forgotten at once. */
  deleteChildren(children: readonly Child[]): Uint8Array[] {
    const h = this.#holder();
    const out = h.deleteChildren(children);
    for (const c of children) {
      const i = h.children.indexOf(c);
      if (i >= 0) h.children.splice(i, 1);
    }
    return out;
  }

  #holder(): V2Initiator {
    if (this.sa === undefined) throw new Error("no IKE SA yet");
    return this.sa;
  }

  // ---- IKE_SA_INIT ----

  #cookieFor(spiI: Uint8Array, ni: Uint8Array, from: Ep): Uint8Array {
    // §2.6: a cookie the responder can recompute statelessly.
    return new Uint8Array(
      createHash("sha256").update(cat(this.#secret, spiI, ni, ip4(from.address))).digest(),
    );
  }

  #init(d: Uint8Array, from: Ep): Uint8Array[] {
    this.inits.push(d);
    const m = decodeMessage(d);
    const h = m.header;
    if ((h.flags & Flag.R) !== 0 || h.messageId !== 0) return [];
    // §2.1: a retransmitted request gets the same response.
    if (hex(d) === hex(this.#initReq)) return [this.#initResp];
    const answer = (ps: Payload[], spiR: Uint8Array = new Uint8Array(8)) =>
      encodeMessage({
        spiI: h.spiI,
        spiR,
        exchange: Exchange.IKE_SA_INIT,
        flags: Flag.R,
        messageId: 0,
      }, ps);
    const first = m.payloads[0];
    const sentCookie = first?.type === Pt.N ? parseNotify(first.body) : undefined;
    const body = sentCookie?.type === Nt.COOKIE ? m.payloads.slice(1) : m.payloads;
    const get = (t: number) => body.find((p) => p.type === t);
    const saP = get(Pt.SA), keP = get(Pt.KE), nP = get(Pt.NONCE);
    if (saP === undefined || keP === undefined || nP === undefined) {
      return [answer([notify(Nt.INVALID_SYNTAX)])];
    }
    if (this.o.cookie === true) {
      const want = this.#cookieFor(h.spiI, nP.body, from);
      if (sentCookie?.type !== Nt.COOKIE || hex(sentCookie.data) !== hex(want)) {
        return [answer([notify(Nt.COOKIE, want)])];
      }
    }
    const ke = parseKe(keP.body);
    const pick = pickIke(parseSa(saP.body), this.#ike, this.o.group ?? ke.group);
    if (pick === undefined) return [answer([notify(Nt.NO_PROPOSAL_CHOSEN)])];
    if (pick.group !== ke.group) return [answer([notify(Nt.INVALID_KE_PAYLOAD, u16(pick.group))])];
    const dh = dhKey(pick.group);
    const spiR = this.#rand(8);
    const nr = this.#rand(32);
    const resp = answer([
      { type: Pt.SA, body: saBody([pick.proposal]) },
      { type: Pt.KE, body: keBody(dh.group, dh.pub) },
      { type: Pt.NONCE, body: nr },
      notify(Nt.NAT_DETECTION_SOURCE_IP, natHash(h.spiI, spiR, this.o.self)),
      notify(Nt.NAT_DETECTION_DESTINATION_IP, natHash(h.spiI, spiR, from)),
    ], spiR);
    const { keys } = initKeys(
      pick.suite.prf!.hash,
      ikeKeySizes(pick.suite),
      nP.body,
      nr,
      dh.shared(ke.data),
      h.spiI,
      spiR,
    );
    const holder = new V2Initiator({
      psk: this.o.psk,
      self: this.o.self,
      responder: from,
      esp: this.o.esp ?? ["aes128gcm16"],
      random: this.#rand,
      fragmentation: false,
    });
    holder.sa = {
      spiI: h.spiI,
      spiR,
      suite: pick.suite,
      keys,
      weInitiated: false,
      msgId: 0,
      peerMsgId: 1,
      lastResponse: [],
    };
    this.sa = holder;
    this.spiR = spiR;
    this.#initReq = d;
    this.#initResp = resp;
    this.#ni = nP.body;
    this.#nr = nr;
    return [resp];
  }

  // ---- IKE_AUTH ----

  #auth(d: Uint8Array, holder: V2Initiator): Uint8Array[] {
    const r = holder.unprotect(d);
    if (r === undefined) return [];
    const sa = holder.sa!;
    const hash = sa.suite.prf!.hash;
    const idP = r.first(Pt.IDi), authP = r.first(Pt.AUTH);
    if (idP === undefined || authP === undefined) throw new WireError("IKE_AUTH without IDi/AUTH");
    const psk = new TextEncoder().encode(this.o.psk);
    const want = pskAuth(hash, psk, this.#initReq, this.#nr, sa.keys.pi, idP.body);
    const authOk = authP.body[0] === AUTH_PSK && hex(authP.body.subarray(4)) === hex(want);
    this.authSeen = {
      authOk,
      idi: { type: idP.body[0]!, data: idP.body.subarray(4) },
      types: r.types,
    };
    sa.peerMsgId = 2;
    const reply = (ps: Payload[]) => {
      sa.lastResponse = holder.protect(sa, Exchange.IKE_AUTH, 1, true, ps);
      return sa.lastResponse;
    };
    // §2.21.2: a wrong AUTH is answered with AUTHENTICATION_FAILED and the SA is gone.
    if (!authOk) return reply([notify(Nt.AUTHENTICATION_FAILED)]);
    const id = this.o.id ?? { type: IdType.IPV4_ADDR, data: ip4(this.o.self.address) };
    const idr = idBody(id.type, id.data);
    const own = new TextEncoder().encode(this.o.ownPsk ?? this.o.psk);
    const ours: Payload[] = [
      { type: Pt.IDr, body: idr },
      {
        type: Pt.AUTH,
        body: authBody(AUTH_PSK, pskAuth(hash, own, this.#initResp, this.#ni, sa.keys.pr, idr)),
      },
    ];
    const saP = r.first(Pt.SA), tsiP = r.first(Pt.TSi), tsrP = r.first(Pt.TSr);
    if (saP === undefined || tsiP === undefined || tsrP === undefined) return reply(ours);
    const esp = pickEsp(parseSa(saP.body), this.#esp);
    if (esp === undefined) return reply([...ours, notify(Nt.NO_PROPOSAL_CHOSEN)]);
    const spi = this.#rand(4);
    const tsi = this.o.tsi ?? parseTs(tsiP.body);
    const tsr = this.o.tsr ?? parseTs(tsrP.body);
    const k = childKeys(
      hash,
      sa.keys.d,
      this.#ni,
      this.#nr,
      encrKeyLen(esp.suite),
      esp.suite.integ?.key ?? 0,
    );
    // We are the exchange's responder: the initiator→responder keys (ei, ai) protect what the
    // peer sends us (§2.17); Child keeps "what we send" as ei/ai.
    holder.children.push({
      inSpi: spi,
      outSpi: esp.proposal.spi,
      suite: esp.suite,
      keys: { ei: k.er, ai: k.ar, er: k.ei, ar: k.ai },
      tsi: [...tsr],
      tsr: [...tsi],
      pfs: 0,
    });
    return reply([
      ...ours,
      { type: Pt.SA, body: saBody([{ ...esp.proposal, spi }]) },
      { type: Pt.TSi, body: tsBody(tsi) },
      { type: Pt.TSr, body: tsBody(tsr) },
    ]);
  }
}

/** Whether `t` is in `p` (same type, ID and key length). */
function has(p: Proposal, t: Transform): boolean {
  return p.transforms.some((x) => x.type === t.type && x.id === t.id && x.keyBits === t.keyBits);
}

function encrT(s: Suite): Transform {
  return s.encr.keyAttr
    ? { type: Tt.ENCR, id: s.encr.id, keyBits: s.encr.keyBits }
    : { type: Tt.ENCR, id: s.encr.id };
}

/**
 * The first offered IKE proposal one of `suites` covers, answered with one transform per type;
 * the group is `prefer` when both sides have it, else the first common one.
 */
function pickIke(
  offer: readonly Proposal[],
  suites: readonly Suite[],
  prefer: number,
): { proposal: Proposal; suite: Suite; group: number } | undefined {
  for (const p of offer) {
    if (p.protocol !== Proto.IKE) continue;
    for (const s of suites) {
      const ts = [encrT(s), { type: Tt.PRF, id: s.prf!.id }];
      if (s.integ !== undefined) ts.push({ type: Tt.INTEG, id: s.integ.id });
      if (!ts.every((t) => has(p, t))) continue;
      const common = s.dh.filter((g) => has(p, { type: Tt.DH, id: g }));
      if (common.length === 0) continue;
      const group = common.includes(prefer) ? prefer : common[0]!;
      return {
        proposal: {
          num: p.num,
          protocol: Proto.IKE,
          spi: new Uint8Array(0),
          transforms: [...ts, { type: Tt.DH, id: group }],
        },
        suite: s,
        group,
      };
    }
  }
  return undefined;
}

/** The first offered ESP proposal (without DH: an IKE_AUTH child) one of `suites` covers. */
function pickEsp(
  offer: readonly Proposal[],
  suites: readonly Suite[],
): { proposal: Proposal; suite: Suite } | undefined {
  for (const p of offer) {
    if (p.protocol !== Proto.ESP || p.spi.length !== 4) continue;
    for (const s of suites) {
      const ts = [encrT(s)];
      if (s.integ !== undefined) ts.push({ type: Tt.INTEG, id: s.integ.id });
      if (!ts.every((t) => has(p, t))) continue;
      const esn = p.transforms.find((t) => t.type === Tt.ESN && t.id === 0) ??
        p.transforms.find((t) => t.type === Tt.ESN);
      if (esn !== undefined) ts.push(esn);
      return {
        proposal: { num: p.num, protocol: Proto.ESP, spi: p.spi, transforms: ts },
        suite: s,
      };
    }
  }
  return undefined;
}
