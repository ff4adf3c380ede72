/**
 * A scripted IKEv2 initiator (RFC 7296) for exchange and interop tests, independent of
 * src/ike/: its own codec (wire.ts), crypto from node:crypto (crypto.ts, sk.ts). It is
 * sans-I/O like the responder: each request method returns the datagrams to send (several when
 * RFC 7383 fragmentation applies) and each `read…` method takes one received datagram. Tests
 * may change, drop, reorder or replay any datagram between the two; `lastRequest` holds the
 * datagrams of the latest request for retransmission.
 *
 * Covered: IKE_SA_INIT with COOKIE (§2.6) and INVALID_KE_PAYLOAD (§1.2) retries and NAT
 * detection (§2.23); IKE_AUTH with a PSK (§2.15); CREATE_CHILD_SA for a new CHILD_SA, a CHILD_SA
 * rekey with or without PFS and an IKE SA rekey (§1.3, §2.17, §2.18); INFORMATIONAL Delete and
 * liveness (§1.4, §2.4); answering the responder's own requests; fragmentation both ways
 * (RFC 7383).
 * @module
 */

import { createHash } from "node:crypto";
import { checkSigAuth, sigAuth, type V2Sig } from "./signatures.ts";
import { AUTH_PSK, Exchange, Flag, IdType, Nt, Proto, Pt, Tt } from "./consts.ts";
import {
  childKeys,
  type DhKey,
  dhKey,
  type IkeKeys,
  initKeys,
  prf,
  pskAuth,
  random as nodeRandom,
  rekeyKeys,
} from "./crypto.ts";
import {
  chosen,
  encrKeyLen,
  ikeKeySizes,
  parseSuite,
  proposals,
  skSuite,
  type Suite,
} from "./proposals.ts";
import { innerPayloads, open, type Opened, seal, type SkKeys } from "./sk.ts";
import {
  authBody,
  cat,
  cidr4,
  decodeMessage,
  deleteBody,
  encodeChain,
  encodeMessage,
  type Header,
  hex,
  idBody,
  ip4,
  keBody,
  type Notify,
  notify,
  parseDelete,
  parseKe,
  parseNotify,
  parseSa,
  parseTs,
  type Payload,
  saBody,
  type Selector,
  tsBody,
  u16,
  WireError,
} from "./wire.ts";

/** An address and UDP port. */
export interface Ep {
  /** IP address. */
  readonly address: string;
  /** Port. */
  readonly port: number;
}

/** An identity (RFC 7296 §3.5). */
export interface Identity {
  /** ID type. */
  readonly type: number;
  /** Identification data. */
  readonly data: Uint8Array;
}

/** Initiator settings. */
export interface V2Options {
  /** The pre-shared key. */
  readonly psk: string | Uint8Array;
  /** Our address and port (sender of our datagrams; NAT-D source unless `natSource`). */
  readonly self: Ep;
  /** The responder's address and port. */
  readonly responder: Ep;
  /** IKE proposals in keyword form, one proposal each (default AES-GCM-16/SHA-256/ECP-256). */
  readonly ike?: readonly string[];
  /** ESP proposals for the IKE_AUTH child and new children (default aes128gcm16). */
  readonly esp?: readonly string[];
  /** The group of the first KE payload (default: first group of the first IKE proposal). */
  readonly keGroup?: number;
  /** IDi (default: ID_IPV4_ADDR of `self`). */
  readonly id?: Identity;
  /** An IDr to send in IKE_AUTH. */
  readonly idr?: Identity;
  /** TSi of the IKE_AUTH child (default 10.2.0.0/16). */
  readonly tsi?: readonly Selector[];
  /** TSr of the IKE_AUTH child (default 10.1.0.0/16). */
  readonly tsr?: readonly Selector[];
  /** Announce IKEV2_FRAGMENTATION_SUPPORTED (default true). */
  readonly fragmentation?: boolean;
  /** Split encrypted content into chunks of at most this many bytes when fragmentation was
   * negotiated (default: never split). */
  readonly fragmentSize?: number;
  /** The address and port our NAT_DETECTION_SOURCE_IP hashes (default `self`: no NAT). */
  readonly natSource?: Ep;
  /** Send the NAT detection notifies (default true). */
  readonly natDetection?: boolean;
  /** Random bytes (default node:crypto). Tests inject a seeded source. */
  readonly random?: (n: number) => Uint8Array;
  /** Nonce length (default 32). */
  readonly nonceLen?: number;
  /** Certificate authentication instead of the PSK (RFC 7296 §2.15). */
  readonly sig?: V2Sig;
  /**
   * The group we insist on when answering a PFS CHILD_SA request or an IKE SA rekey: a KE of
   * another group offered next to it gets INVALID_KE_PAYLOAD naming it (§1.3).
   */
  readonly answerGroup?: number;
}

/** One established CHILD_SA pair. */
export interface Child {
  /** Our (inbound) SPI. */
  readonly inSpi: Uint8Array;
  /** The responder's (outbound) SPI. */
  readonly outSpi: Uint8Array;
  /** The chosen ESP suite. */
  readonly suite: Suite;
  /**
   * KEYMAT split per direction (RFC 7296 §2.17): `ei`/`ai` protect what we send to the
   * responder, `er`/`ar` what it sends us, whichever side started the exchange.
   */
  readonly keys: { ei: Uint8Array; ai: Uint8Array; er: Uint8Array; ar: Uint8Array };
  /** Narrowed TSi the responder answered. */
  readonly tsi: Selector[];
  /** Narrowed TSr the responder answered. */
  readonly tsr: Selector[];
  /** DH group of a PFS exchange, 0 without. */
  readonly pfs: number;
}

/** The state of one IKE SA (the initial one or a rekeyed successor). */
export interface IkeSaState {
  /** SPIi of this SA (8 bytes). */
  readonly spiI: Uint8Array;
  /** SPIr of this SA. */
  readonly spiR: Uint8Array;
  /** The chosen IKE suite. */
  readonly suite: Suite;
  /** Keys. */
  readonly keys: IkeKeys;
  /** Whether we are the "original initiator" of this SA (the I flag, §3.1). */
  readonly weInitiated: boolean;
  /** Next message ID of our requests. */
  msgId: number;
  /** Next message ID we expect in the responder's requests. */
  peerMsgId: number;
  /** Our last response to a responder request (retransmits are answered with it, §2.1). */
  lastResponse: Uint8Array[];
}

/** A received message after decryption and reassembly. */
export class Received {
  /** A received message. */
  constructor(
    /** Header of the (first) datagram. */
    readonly header: Header,
    /** Payloads (inner payloads for an encrypted message). */
    readonly payloads: readonly Payload[],
  ) {}

  /** Notifies. */
  get notifies(): Notify[] {
    return this.payloads.filter((p) => p.type === Pt.N).map((p) => parseNotify(p.body));
  }

  /** The first notify of `type`. */
  notify(type: number): Notify | undefined {
    return this.notifies.find((n) => n.type === type);
  }

  /** The first payload of `type`. */
  first(type: number): Payload | undefined {
    return this.payloads.find((p) => p.type === type);
  }

  /** Payload types in order. */
  get types(): number[] {
    return this.payloads.map((p) => p.type);
  }

  /** Error notifies (types below 16384, RFC 7296 §3.10.1). */
  get errors(): number[] {
    return this.notifies.filter((n) => n.type < 16384).map((n) => n.type);
  }
}

/** What an IKE_SA_INIT response meant. */
export type InitResult =
  | { readonly kind: "cookie" }
  | { readonly kind: "invalidKe"; readonly group: number }
  | { readonly kind: "error"; readonly notify: number }
  | {
    readonly kind: "done";
    /** Index of the chosen IKE proposal among ours. */
    readonly proposal: number;
    /** Whether the responder's NAT_DETECTION_SOURCE_IP matched its address. */
    readonly natSourceOk: boolean;
    /** Whether its NAT_DETECTION_DESTINATION_IP matched our address (false: we are NATed). */
    readonly natDestOk: boolean;
    /** Whether it announced IKEV2_FRAGMENTATION_SUPPORTED. */
    readonly fragmentation: boolean;
  };

/** SHA-1(SPIi | SPIr | IP | port), RFC 7296 §2.23. */
export function natHash(spiI: Uint8Array, spiR: Uint8Array, ep: Ep): Uint8Array {
  return new Uint8Array(
    createHash("sha1").update(cat(spiI, spiR, ip4(ep.address), u16(ep.port))).digest(),
  );
}

type Pending =
  | { kind: "auth"; spi: Uint8Array; suites: Suite[] }
  | {
    kind: "child";
    spi: Uint8Array;
    ni: Uint8Array;
    dh?: DhKey;
    suites: Suite[];
    rekeys?: Child;
    on: IkeSaState;
  }
  | { kind: "ike"; spi: Uint8Array; ni: Uint8Array; dh: DhKey; suites: Suite[]; on: IkeSaState }
  | { kind: "info" };

/** The scripted IKEv2 initiator. */
export class V2Initiator {
  /** Random source. */
  readonly rand: (n: number) => Uint8Array;
  /** SPIi of the initial IKE SA. */
  readonly spiI: Uint8Array;
  /** Ni of IKE_SA_INIT. */
  readonly ni: Uint8Array;
  /** Nr, once read. */
  nr: Uint8Array = new Uint8Array(0);
  /** The current KE key pair. */
  dh: DhKey;
  /** The COOKIE the responder asked for, if any. */
  cookie: Uint8Array | undefined;
  /** The IKE_SA_INIT request as last built (RealMessage1 of §2.15). */
  initRequest: Uint8Array = new Uint8Array(0);
  /** The IKE_SA_INIT response (RealMessage2). */
  initResponse: Uint8Array = new Uint8Array(0);
  /** The current IKE SA once IKE_SA_INIT completed. */
  sa: IkeSaState | undefined;
  /** The IKE SA a rekey replaced (until deleted). */
  old: IkeSaState | undefined;
  /** Every IKE SA made by a rekey (ours or the responder's), for {@link saFor}. */
  readonly known: IkeSaState[] = [];
  /** Nonces of the last CREATE_CHILD_SA we answered (collision tests compare them). */
  lastAnswered: { ni: Uint8Array; nr: Uint8Array } | undefined;
  /** Established CHILD_SAs (newest last). */
  readonly children: Child[] = [];
  /** Datagrams of our latest request. */
  lastRequest: Uint8Array[] = [];
  /** Whether both sides announced fragmentation. */
  fragmentation = false;
  /** IKE suites offered. */
  readonly ikeSuites: Suite[];
  /** ESP suites offered. */
  readonly espSuites: Suite[];
  readonly #psk: Uint8Array;
  #pending: Pending | undefined;
  #pendingSa: IkeSaState | undefined;
  readonly #frags = new Map<
    string,
    { total: number; first: number; parts: Map<number, Uint8Array> }
  >();

  /** A new initiator; nothing is sent until {@link init}. */
  constructor(readonly o: V2Options) {
    this.rand = o.random ?? nodeRandom;
    this.#psk = typeof o.psk === "string" ? new TextEncoder().encode(o.psk) : o.psk;
    this.ikeSuites = (o.ike ?? ["aes128gcm16-prfsha256-ecp256"]).map((s) => parseSuite(s, "ike"));
    this.espSuites = (o.esp ?? ["aes128gcm16"]).map((s) => parseSuite(s, "esp"));
    this.spiI = this.rand(8);
    this.ni = this.rand(o.nonceLen ?? 32);
    this.dh = dhKey(o.keGroup ?? this.ikeSuites[0]!.dh[0]!);
  }

  // ---- IKE_SA_INIT ----

  /** Payloads of the IKE_SA_INIT request (before the cookie), for tests that alter them. */
  initPayloads(): Payload[] {
    const ps: Payload[] = [
      { type: Pt.SA, body: saBody(proposals(this.ikeSuites, Proto.IKE, new Uint8Array(0))) },
      { type: Pt.KE, body: keBody(this.dh.group, this.dh.pub) },
      { type: Pt.NONCE, body: this.ni },
    ];
    if (this.o.natDetection !== false) {
      const zero = new Uint8Array(8);
      ps.push(
        notify(
          Nt.NAT_DETECTION_SOURCE_IP,
          natHash(this.spiI, zero, this.o.natSource ?? this.o.self),
        ),
        notify(Nt.NAT_DETECTION_DESTINATION_IP, natHash(this.spiI, zero, this.o.responder)),
      );
    }
    if (this.o.fragmentation !== false) ps.push(notify(Nt.IKEV2_FRAGMENTATION_SUPPORTED));
    // RFC 7427 §4: SIGNATURE_HASH_ALGORITHMS (16431) with SHA-256, SHA-384, SHA-512.
    if (this.o.sig?.hashNotify === true) ps.push(notify(16431, Uint8Array.of(0, 2, 0, 3, 0, 4)));
    return ps;
  }

  /**
   * The IKE_SA_INIT request (message ID 0); with the COOKIE as the first payload once the
   * responder asked for one (§2.6). `payloads` replaces the default payloads.
   */
  init(payloads: Payload[] = this.initPayloads()): Uint8Array {
    const ps = this.cookie === undefined ? payloads : [notify(Nt.COOKIE, this.cookie), ...payloads];
    this.initRequest = encodeMessage({
      spiI: this.spiI,
      spiR: new Uint8Array(8),
      exchange: Exchange.IKE_SA_INIT,
      flags: Flag.I,
      messageId: 0,
    }, ps);
    this.lastRequest = [this.initRequest];
    return this.initRequest;
  }

  /** Reads the IKE_SA_INIT response; on COOKIE or INVALID_KE_PAYLOAD call {@link init} again. */
  readInit(d: Uint8Array): InitResult {
    const m = decodeMessage(d);
    const h = m.header;
    if (h.exchange !== Exchange.IKE_SA_INIT || (h.flags & Flag.R) === 0 || h.messageId !== 0) {
      throw new WireError(
        `not an IKE_SA_INIT response: ${JSON.stringify({ ...h, spiI: 0, spiR: 0 })}`,
      );
    }
    if (hex(h.spiI) !== hex(this.spiI)) throw new WireError("response for another SPIi");
    const r = new Received(h, m.payloads);
    const cookie = r.notify(Nt.COOKIE);
    if (cookie !== undefined) {
      // §2.6: the cookie response carries only the COOKIE notify, with SPIr zero.
      this.cookie = cookie.data;
      return { kind: "cookie" };
    }
    const ike = r.notify(Nt.INVALID_KE_PAYLOAD);
    if (ike !== undefined) {
      const group = ike.data.length === 2 ? (ike.data[0]! << 8 | ike.data[1]!) : -1;
      // §1.2: retry with the group the responder asked for, if we offered it.
      if (!this.ikeSuites.some((s) => s.dh.includes(group))) {
        throw new WireError(`INVALID_KE_PAYLOAD asks for group ${group}, which we did not offer`);
      }
      this.dh = dhKey(group);
      return { kind: "invalidKe", group };
    }
    const errs = r.errors;
    if (errs.length > 0) return { kind: "error", notify: errs[0]! };
    const saP = r.first(Pt.SA), keP = r.first(Pt.KE), nP = r.first(Pt.NONCE);
    if (saP === undefined || keP === undefined || nP === undefined) {
      throw new WireError(`IKE_SA_INIT response lacks SA, KE or Nr: ${r.types}`);
    }
    const pick = chosen(this.ikeSuites, parseSa(saP.body), Proto.IKE);
    const ke = parseKe(keP.body);
    if (pick.dh !== this.dh.group || ke.group !== this.dh.group) {
      throw new WireError(`chosen group ${pick.dh}, KE group ${ke.group}, ours ${this.dh.group}`);
    }
    if (nP.body.length < 16 || nP.body.length > 256) throw new WireError("Nr length");
    this.nr = nP.body;
    this.initResponse = d;
    const gir = this.dh.shared(ke.data);
    const { keys } = initKeys(
      pick.suite.prf!.hash,
      ikeKeySizes(pick.suite),
      this.ni,
      this.nr,
      gir,
      this.spiI,
      h.spiR,
    );
    this.sa = {
      spiI: this.spiI,
      spiR: h.spiR,
      suite: pick.suite,
      keys,
      weInitiated: true,
      msgId: 1,
      peerMsgId: 0,
      lastResponse: [],
    };
    const srcs = r.notifies.filter((n) => n.type === Nt.NAT_DETECTION_SOURCE_IP);
    const dst = r.notify(Nt.NAT_DETECTION_DESTINATION_IP);
    const want = natHash(this.spiI, h.spiR, this.o.responder);
    const mine = natHash(this.spiI, h.spiR, this.o.natSource ?? this.o.self);
    this.fragmentation = this.o.fragmentation !== false &&
      r.notify(Nt.IKEV2_FRAGMENTATION_SUPPORTED) !== undefined;
    return {
      kind: "done",
      proposal: pick.index,
      natSourceOk: srcs.some((n) => hex(n.data) === hex(want)),
      natDestOk: dst !== undefined && hex(dst.data) === hex(mine),
      fragmentation: r.notify(Nt.IKEV2_FRAGMENTATION_SUPPORTED) !== undefined,
    };
  }

  /**
   * Runs IKE_SA_INIT against `exchange` (a function sending one datagram and returning the
   * answer), following COOKIE and INVALID_KE_PAYLOAD retries (at most `max` round trips).
   */
  initLoop(exchange: (d: Uint8Array) => Uint8Array, max = 4): InitResult {
    for (let i = 0; i < max; i++) {
      const r = this.readInit(exchange(this.init()));
      if (r.kind !== "cookie" && r.kind !== "invalidKe") return r;
    }
    throw new Error(`IKE_SA_INIT did not finish in ${max} round trips`);
  }

  // ---- encrypted messages ----

  #ike(): IkeSaState {
    if (this.sa === undefined) throw new Error("no IKE SA yet");
    return this.sa;
  }

  #sendKeys(sa: IkeSaState): SkKeys {
    return sa.weInitiated ? { e: sa.keys.ei, a: sa.keys.ai } : { e: sa.keys.er, a: sa.keys.ar };
  }

  #recvKeys(sa: IkeSaState): SkKeys {
    return sa.weInitiated ? { e: sa.keys.er, a: sa.keys.ar } : { e: sa.keys.ei, a: sa.keys.ai };
  }

  /**
   * Encrypts `payloads` as one message (several SKF fragments when fragmentation was negotiated
   * and the content exceeds `fragmentSize`, RFC 7383 §2.5) on `sa`.
   */
  protect(
    sa: IkeSaState,
    exchange: number,
    messageId: number,
    response: boolean,
    payloads: readonly Payload[],
  ): Uint8Array[] {
    const inner = encodeChain(payloads);
    const first = payloads[0]?.type ?? Pt.NONE;
    const h = {
      spiI: sa.spiI,
      spiR: sa.spiR,
      version: 0x20,
      exchange,
      flags: (sa.weInitiated ? Flag.I : 0) | (response ? Flag.R : 0),
      messageId,
    };
    const suite = skSuite(sa.suite);
    const ivl = suite.encr.icv > 0 ? 8 : 16;
    const size = this.o.fragmentSize ?? 0;
    if (!this.fragmentation || size <= 0 || inner.length <= size) {
      return [seal(suite, this.#sendKeys(sa), h, first, inner, this.rand(ivl))];
    }
    const total = Math.ceil(inner.length / size);
    const out: Uint8Array[] = [];
    for (let n = 1; n <= total; n++) {
      out.push(seal(
        suite,
        this.#sendKeys(sa),
        h,
        n === 1 ? first : Pt.NONE,
        inner.subarray((n - 1) * size, n * size),
        this.rand(ivl),
        { num: n, total },
      ));
    }
    return out;
  }

  /** Sends a request on the current (or given) IKE SA, taking the next message ID. */
  request(exchange: number, payloads: readonly Payload[], sa = this.#ike()): Uint8Array[] {
    const ds = this.protect(sa, exchange, sa.msgId++, false, payloads);
    this.lastRequest = ds;
    return ds;
  }

  /**
   * Authenticates and decrypts one datagram of `sa` (or the SA its SPIs name); returns the
   * message once every fragment arrived (RFC 7383 §2.6), else undefined.
   */
  unprotect(d: Uint8Array): Received | undefined {
    const sa = this.saFor(d);
    const o: Opened = open(skSuite(sa.suite), this.#recvKeys(sa), d);
    if (o.frag === undefined) {
      return new Received(o.header, innerPayloads(o.firstInner, o.inner));
    }
    const { num, total } = o.frag;
    if (num < 1 || num > total) throw new WireError(`fragment ${num} of ${total}`);
    const key = `${hex(sa.spiI)}/${o.header.messageId}/${o.header.flags & Flag.R}`;
    let f = this.#frags.get(key);
    if (f === undefined || f.total !== total) {
      f = { total, first: 0, parts: new Map() };
      this.#frags.set(key, f);
    }
    if (num === 1) f.first = o.firstInner;
    f.parts.set(num, o.inner);
    if (f.parts.size < total) return undefined;
    this.#frags.delete(key);
    const parts: Uint8Array[] = [];
    for (let i = 1; i <= total; i++) parts.push(f.parts.get(i)!);
    return new Received(o.header, innerPayloads(f.first, cat(...parts)));
  }

  /** The IKE SA a datagram belongs to (by its SPI pair). */
  saFor(d: Uint8Array): IkeSaState {
    const k = hex(d.subarray(0, 16));
    for (const sa of [this.sa, this.#pendingSa, this.old, ...this.known]) {
      if (sa !== undefined && hex(cat(sa.spiI, sa.spiR)) === k) return sa;
    }
    throw new WireError(`no IKE SA for SPIs ${k}`);
  }

  /** Reads the response to our latest request (undefined until all fragments arrived). */
  readResponse(d: Uint8Array): Received | undefined {
    const sa = this.saFor(d);
    const r = this.unprotect(d);
    if (r === undefined) return undefined;
    if ((r.header.flags & Flag.R) === 0) throw new WireError("expected a response");
    if (r.header.messageId !== sa.msgId - 1) {
      throw new WireError(`response message ID ${r.header.messageId}, want ${sa.msgId - 1}`);
    }
    return r;
  }

  // ---- IKE_AUTH ----

  /** Our IDi. */
  get id(): Identity {
    return this.o.id ?? { type: IdType.IPV4_ADDR, data: ip4(this.o.self.address) };
  }

  /** Our AUTH value (§2.15) over the IKE_SA_INIT request and `id`. */
  authValue(id: Identity = this.id, psk = this.#psk): Uint8Array {
    const sa = this.#ike();
    return pskAuth(
      sa.suite.prf!.hash,
      psk,
      this.initRequest,
      this.nr,
      sa.keys.pi,
      idBody(id.type, id.data),
    );
  }

  /**
   * The IKE_AUTH payloads (§1.2): IDi, [IDr], AUTH, [INITIAL_CONTACT], SA, TSi, TSr.
   * Options change any part for negative tests.
   */
  authPayloads(o: AuthOptions = {}): Payload[] {
    const id = o.id ?? this.id;
    const spi = this.rand(4);
    this.#pending = { kind: "auth", spi, suites: this.espSuites };
    const ps: Payload[] = [{ type: Pt.IDi, body: idBody(id.type, id.data) }];
    const idr = o.idr ?? this.o.idr;
    if (idr !== undefined) ps.push({ type: Pt.IDr, body: idBody(idr.type, idr.data) });
    const sig = this.o.sig;
    if (sig === undefined) {
      const auth = o.auth ??
        this.authValue(id, o.psk === undefined ? this.#psk : new TextEncoder().encode(o.psk));
      ps.push({ type: Pt.AUTH, body: authBody(AUTH_PSK, auth) });
    } else {
      // RFC 7296 §3.6: CERT payloads (X.509 Certificate - Signature, 4), ours first.
      for (const c of sig.certs) ps.push({ type: Pt.CERT, body: cat(Uint8Array.of(4), c) });
      const sa = this.#ike();
      const signed = cat(
        this.initRequest,
        this.nr,
        prf(sa.suite.prf!.hash, sa.keys.pi, idBody(id.type, id.data)),
      );
      const data = sigAuth(sig, signed);
      if (o.corruptSig === true) data[data.length - 1] = data[data.length - 1]! ^ 1;
      ps.push({ type: Pt.AUTH, body: authBody(sig.method, data) });
    }
    if (o.initialContact === true) ps.push(notify(Nt.INITIAL_CONTACT));
    if (o.noChild !== true) {
      ps.push(
        { type: Pt.SA, body: saBody(proposals(this.espSuites, Proto.ESP, spi, false)) },
        { type: Pt.TSi, body: tsBody(o.tsi ?? this.o.tsi ?? [cidr4("10.2.0.0/16")]) },
        { type: Pt.TSr, body: tsBody(o.tsr ?? this.o.tsr ?? [cidr4("10.1.0.0/16")]) },
      );
    }
    if (o.extra !== undefined) ps.push(...o.extra);
    return ps;
  }

  /** The IKE_AUTH request (message ID 1), fragmented when negotiated and large. */
  auth(o: AuthOptions = {}): Uint8Array[] {
    return this.request(Exchange.IKE_AUTH, this.authPayloads(o));
  }

  /**
   * Reads the IKE_AUTH response: verifies the responder's AUTH (throws when wrong) and records
   * the CHILD_SA when one was created. Undefined until all fragments arrived.
   */
  readAuth(d: Uint8Array): Received | undefined {
    const r = this.readResponse(d);
    if (r === undefined) return undefined;
    const authP = r.first(Pt.AUTH), idr = r.first(Pt.IDr);
    if (authP !== undefined) {
      if (idr === undefined) throw new WireError("AUTH without IDr");
      const sa = this.#ike();
      if (this.o.sig !== undefined) {
        const cert = r.first(Pt.CERT);
        if (cert === undefined || cert.body[0] !== 4) throw new WireError("AUTH without CERT");
        const signed = cat(
          this.initResponse,
          this.ni,
          prf(sa.suite.prf!.hash, sa.keys.pr, idr.body),
        );
        if (!checkSigAuth(cert.body.subarray(1), authP.body[0]!, authP.body.subarray(4), signed)) {
          throw new WireError("responder signature wrong");
        }
      } else {
        const want = pskAuth(
          sa.suite.prf!.hash,
          this.#psk,
          this.initResponse,
          this.ni,
          sa.keys.pr,
          idr.body,
        );
        if (authP.body[0] !== AUTH_PSK) throw new WireError(`AUTH method ${authP.body[0]}`);
        if (hex(authP.body.subarray(4)) !== hex(want)) throw new WireError("responder AUTH wrong");
      }
    }
    const p = this.#pending;
    if (p?.kind === "auth" && r.first(Pt.SA) !== undefined) {
      this.children.push(this.#child(this.#ike(), r, p.spi, p.suites, this.ni, this.nr, false));
    }
    this.#pending = undefined;
    return r;
  }

  #child(
    sa: IkeSaState,
    r: Received,
    spi: Uint8Array,
    suites: readonly Suite[],
    ni: Uint8Array,
    nr: Uint8Array,
    withDh: boolean,
    gir?: Uint8Array,
  ): Child {
    const answer = parseSa(r.first(Pt.SA)!.body);
    const pick = chosen(suites, answer, Proto.ESP, withDh);
    if (pick.proposal.spi.length !== 4) throw new WireError("ESP SPI is not 4 bytes");
    const tsiP = r.first(Pt.TSi), tsrP = r.first(Pt.TSr);
    if (tsiP === undefined || tsrP === undefined) throw new WireError("child without TSi/TSr");
    const keys = childKeys(
      sa.suite.prf!.hash,
      sa.keys.d,
      ni,
      nr,
      encrKeyLen(pick.suite),
      pick.suite.integ?.key ?? 0,
      gir,
    );
    return {
      inSpi: spi,
      outSpi: pick.proposal.spi,
      suite: pick.suite,
      keys,
      tsi: parseTs(tsiP.body),
      tsr: parseTs(tsrP.body),
      pfs: gir === undefined ? 0 : (pick.dh ?? 0),
    };
  }

  // ---- CREATE_CHILD_SA ----

  /**
   * A CREATE_CHILD_SA request for a new CHILD_SA, or a rekey of `o.rekey` (REKEY_SA, §1.3.3);
   * `o.pfs` adds a KE of that group (the ESP proposal must offer it: pass `esp` with the group).
   */
  createChild(o: ChildOptions = {}): Uint8Array[] {
    const suites = (o.esp ?? this.o.esp ?? ["aes128gcm16"]).map((s) => parseSuite(s, "esp"));
    const spi = this.rand(4);
    const ni = this.rand(this.o.nonceLen ?? 32);
    const dh = o.pfs === undefined ? undefined : dhKey(o.pfs);
    const ps: Payload[] = [];
    if (o.rekey !== undefined) {
      ps.push(notify(Nt.REKEY_SA, new Uint8Array(0), Proto.ESP, o.rekey.inSpi));
    }
    ps.push(
      { type: Pt.SA, body: saBody(proposals(suites, Proto.ESP, spi, true)) },
      { type: Pt.NONCE, body: ni },
    );
    if (dh !== undefined) ps.push({ type: Pt.KE, body: keBody(dh.group, dh.pub) });
    ps.push(
      { type: Pt.TSi, body: tsBody(o.tsi ?? o.rekey?.tsi ?? this.o.tsi ?? [cidr4("10.2.0.0/16")]) },
      { type: Pt.TSr, body: tsBody(o.tsr ?? o.rekey?.tsr ?? this.o.tsr ?? [cidr4("10.1.0.0/16")]) },
    );
    this.#pending = {
      kind: "child",
      spi,
      ni,
      suites,
      on: this.#ike(),
      ...(dh === undefined ? {} : { dh }),
      ...(o.rekey === undefined ? {} : { rekeys: o.rekey }),
    };
    return this.request(Exchange.CREATE_CHILD_SA, ps);
  }

  /** A CREATE_CHILD_SA rekeying the IKE SA (§1.3.2) with a new SPIi, Ni and KEi. */
  rekeyIke(o: { ike?: readonly string[]; group?: number } = {}): Uint8Array[] {
    const suites = (o.ike ?? this.o.ike ?? ["aes128gcm16-prfsha256-ecp256"]).map((s) =>
      parseSuite(s, "ike")
    );
    const spi = this.rand(8);
    const ni = this.rand(this.o.nonceLen ?? 32);
    const dh = dhKey(o.group ?? suites[0]!.dh[0]!);
    this.#pending = { kind: "ike", spi, ni, dh, suites, on: this.#ike() };
    return this.request(Exchange.CREATE_CHILD_SA, [
      { type: Pt.SA, body: saBody(proposals(suites, Proto.IKE, spi)) },
      { type: Pt.NONCE, body: ni },
      { type: Pt.KE, body: keBody(dh.group, dh.pub) },
    ]);
  }

  /**
   * Reads a CREATE_CHILD_SA response: records the new CHILD_SA, or switches to the new IKE SA
   * (the old one stays in `old` until {@link deleteIke}). Error responses are returned as is.
   */
  readCreateChild(d: Uint8Array): Received | undefined {
    const r = this.readResponse(d);
    if (r === undefined) return undefined;
    const p = this.#pending;
    this.#pending = undefined;
    if (r.errors.length > 0 || r.first(Pt.SA) === undefined) return r;
    const nrP = r.first(Pt.NONCE);
    if (nrP === undefined) throw new WireError("CREATE_CHILD_SA response without Nr");
    if (p?.kind === "child") {
      let gir: Uint8Array | undefined;
      if (p.dh !== undefined) {
        const ke = r.first(Pt.KE);
        if (ke === undefined) throw new WireError("PFS request answered without KE");
        const k = parseKe(ke.body);
        if (k.group !== p.dh.group) throw new WireError(`KEr group ${k.group}`);
        gir = p.dh.shared(k.data);
      }
      const c = this.#child(p.on, r, p.spi, p.suites, p.ni, nrP.body, true, gir);
      this.children.push(c);
    } else if (p?.kind === "ike") {
      const pick = chosen(p.suites, parseSa(r.first(Pt.SA)!.body), Proto.IKE);
      const ke = r.first(Pt.KE);
      if (ke === undefined) throw new WireError("IKE rekey answered without KE");
      const k = parseKe(ke.body);
      if (k.group !== p.dh.group) throw new WireError(`KEr group ${k.group}`);
      if (pick.proposal.spi.length !== 8) throw new WireError("new SPIr is not 8 bytes");
      const sa = p.on;
      const keys = rekeyKeys(
        sa.suite.prf!.hash,
        pick.suite.prf!.hash,
        ikeKeySizes(pick.suite),
        sa.keys.d,
        p.dh.shared(k.data),
        p.ni,
        nrP.body,
        p.spi,
        pick.proposal.spi,
      );
      this.old = sa;
      this.sa = {
        spiI: p.spi,
        spiR: pick.proposal.spi,
        suite: pick.suite,
        keys,
        weInitiated: true,
        msgId: 0,
        peerMsgId: 0,
        lastResponse: [],
      };
      this.known.push(this.sa);
    }
    return r;
  }

  // ---- INFORMATIONAL ----

  /** An INFORMATIONAL request with `payloads` (empty: a liveness check, §1.4). */
  informational(payloads: readonly Payload[] = [], sa = this.#ike()): Uint8Array[] {
    this.#pending = { kind: "info" };
    return this.request(Exchange.INFORMATIONAL, payloads, sa);
  }

  /** Delete for our inbound SPIs of `children` (§1.4.1). */
  deleteChildren(children: readonly Child[]): Uint8Array[] {
    return this.informational([{
      type: Pt.D,
      body: deleteBody({ protocol: Proto.ESP, spis: children.map((c) => c.inSpi) }),
    }]);
  }

  /** Delete of an IKE SA (the old one after a rekey by default, else the current one). */
  deleteIke(sa = this.old ?? this.#ike()): Uint8Array[] {
    return this.informational(
      [{ type: Pt.D, body: deleteBody({ protocol: Proto.IKE, spis: [] }) }],
      sa,
    );
  }

  /** Forget the old IKE SA (after its Delete was answered). */
  dropOld(): void {
    this.old = undefined;
  }

  // ---- the responder's requests ----

  /**
   * Answers a request the responder sent us: INFORMATIONAL (empty, Delete of ESP or IKE) and
   * CREATE_CHILD_SA rekeys of a CHILD_SA (§1.3.3). A retransmitted request is answered with
   * the stored response (§2.1). Returns the response datagrams (none while fragments are
   * missing); `lastPeerRequest` holds what was asked.
   */
  respond(d: Uint8Array): Uint8Array[] {
    const sa = this.saFor(d);
    const mid = (d[20]! << 24 | d[21]! << 16 | d[22]! << 8 | d[23]!) >>> 0;
    if (mid === sa.peerMsgId - 1 && sa.lastResponse.length > 0) return sa.lastResponse;
    const r = this.unprotect(d);
    if (r === undefined) return [];
    if ((r.header.flags & Flag.R) !== 0) throw new WireError("expected a request");
    if (r.header.messageId !== sa.peerMsgId) {
      throw new WireError(`request message ID ${r.header.messageId}, want ${sa.peerMsgId}`);
    }
    this.lastPeerRequest = r;
    sa.peerMsgId++;
    const out: Payload[] = [];
    if (r.header.exchange === Exchange.INFORMATIONAL) {
      for (const p of r.payloads.filter((x) => x.type === Pt.D)) {
        const del = parseDelete(p.body);
        if (del.protocol === Proto.ESP) {
          const ours: Uint8Array[] = [];
          for (const spi of del.spis) {
            const i = this.children.findIndex((c) => hex(c.outSpi) === hex(spi));
            if (i >= 0) ours.push(this.children.splice(i, 1)[0]!.inSpi);
          }
          if (ours.length > 0) {
            out.push({ type: Pt.D, body: deleteBody({ protocol: Proto.ESP, spis: ours }) });
          }
        }
      }
    } else if (r.header.exchange === Exchange.CREATE_CHILD_SA && this.refuseNext !== undefined) {
      out.push(notify(this.refuseNext));
      this.refuseNext = undefined;
    } else if (r.header.exchange === Exchange.CREATE_CHILD_SA) {
      const offer = r.first(Pt.SA);
      const ike = offer !== undefined && parseSa(offer.body)[0]?.protocol === Proto.IKE;
      out.push(...(ike ? this.#answerIkeRekey(r, sa) : this.#answerCreateChild(r, sa)));
    }
    sa.lastResponse = this.protect(sa, r.header.exchange, r.header.messageId, true, out);
    return sa.lastResponse;
  }

  /** The last request the responder sent us. */
  lastPeerRequest: Received | undefined;

  /** An error Notify type the next CREATE_CHILD_SA of the responder is answered with. */
  refuseNext: number | undefined;

  #answerCreateChild(r: Received, sa: IkeSaState): Payload[] {
    const rekey = r.notify(Nt.REKEY_SA);
    const saP = r.first(Pt.SA), nP = r.first(Pt.NONCE);
    if (saP === undefined || nP === undefined) return [notify(Nt.INVALID_SYNTAX)];
    const offer = parseSa(saP.body);
    if (offer[0]?.protocol !== Proto.ESP) return [notify(Nt.NO_PROPOSAL_CHOSEN)];
    const old = rekey === undefined
      ? undefined
      : this.children.find((c) => hex(c.outSpi) === hex(rekey.spi));
    if (rekey !== undefined && old === undefined) {
      return [notify(Nt.CHILD_SA_NOT_FOUND, new Uint8Array(0), Proto.ESP, rekey.spi)];
    }
    // Take the first offered proposal that is one of our suites.
    for (const p of offer) {
      for (const s of this.espSuites) {
        const dhT = p.transforms.find((t) => t.type === Tt.DH && t.id === this.o.answerGroup) ??
          p.transforms.find((t) => t.type === Tt.DH);
        const mine = parseSuite(
          `${s.encrName}${s.integ === undefined ? "" : "-" + integName(s)}`,
          "esp",
        );
        const want = p.transforms.filter((t) => t.type !== Tt.DH);
        const ok = want.length === 2 + (mine.integ === undefined ? 0 : 1) &&
          want.every((t) =>
            (t.type === Tt.ENCR && t.id === mine.encr.id &&
              (mine.encr.keyAttr ? t.keyBits === mine.encr.keyBits : t.keyBits === undefined)) ||
            (t.type === Tt.INTEG && t.id === mine.integ?.id) ||
            (t.type === Tt.ESN && t.id === 0)
          );
        if (!ok || p.spi.length !== 4) continue;
        const want2 = this.o.answerGroup;
        if (
          dhT !== undefined && want2 !== undefined &&
          p.transforms.some((t) => t.type === Tt.DH && t.id === want2)
        ) {
          const keP = r.first(Pt.KE);
          if (keP === undefined || parseKe(keP.body).group !== want2) {
            return [notify(Nt.INVALID_KE_PAYLOAD, u16(want2))];
          }
        }
        const spi = this.rand(4);
        const nr = this.rand(this.o.nonceLen ?? 32);
        let gir: Uint8Array | undefined;
        const out: Payload[] = [];
        const chosenT = [...want];
        if (dhT !== undefined) {
          const keP = r.first(Pt.KE);
          if (keP === undefined) return [notify(Nt.INVALID_SYNTAX)];
          const ke = parseKe(keP.body);
          const dh = dhKey(dhT.id);
          if (ke.group !== dhT.id) return [notify(Nt.INVALID_KE_PAYLOAD, u16(dhT.id))];
          gir = dh.shared(ke.data);
          chosenT.push(dhT);
          out.push({ type: Pt.KE, body: keBody(dh.group, dh.pub) });
        }
        this.lastAnswered = { ni: nP.body, nr };
        const keys = childKeys(
          sa.suite.prf!.hash,
          sa.keys.d,
          nP.body,
          nr,
          encrKeyLen(mine),
          mine.integ?.key ?? 0,
          gir,
        );
        const tsi = parseTs(r.first(Pt.TSi)!.body), tsr = parseTs(r.first(Pt.TSr)!.body);
        // The responder initiated this exchange: its TSi is its side, our TSr.
        this.children.push({
          inSpi: spi,
          outSpi: p.spi,
          suite: mine,
          // KEYMAT order: exchange initiator → responder first (§2.17); we responded here.
          keys: { ei: keys.er, ai: keys.ar, er: keys.ei, ar: keys.ai },
          tsi: tsr,
          tsr: tsi,
          pfs: dhT?.id ?? 0,
        });
        return [
          {
            type: Pt.SA,
            body: saBody([{ num: p.num, protocol: Proto.ESP, spi, transforms: chosenT }]),
          },
          { type: Pt.NONCE, body: nr },
          ...out,
          { type: Pt.TSi, body: tsBody(tsi) },
          { type: Pt.TSr, body: tsBody(tsr) },
        ];
      }
    }
    return [notify(Nt.NO_PROPOSAL_CHOSEN)];
  }

  /**
   * Answers the responder's IKE SA rekey (§1.3.2): the first offered proposal one of our IKE
   * suites covers, a new SPIr, Nr and KEr; keys per §2.18. The new SA (the responder is its
   * original initiator) becomes current, the old one stays in `old` until deleted.
   */
  #answerIkeRekey(r: Received, sa: IkeSaState): Payload[] {
    const nP = r.first(Pt.NONCE), keP = r.first(Pt.KE);
    if (nP === undefined || keP === undefined) return [notify(Nt.INVALID_SYNTAX)];
    const ke = parseKe(keP.body);
    for (const p of parseSa(r.first(Pt.SA)!.body)) {
      if (p.spi.length !== 8) continue;
      for (const s of this.ikeSuites) {
        const pick = (type: number, ok: (t: { id: number; keyBits?: number }) => boolean) =>
          p.transforms.find((t) => t.type === type && ok(t));
        const encr = pick(Tt.ENCR, (t) => t.id === s.encr.id && t.keyBits === s.encr.keyBits);
        const prfT = pick(Tt.PRF, (t) => t.id === s.prf?.id);
        const integ = s.integ === undefined
          ? undefined
          : pick(Tt.INTEG, (t) => t.id === s.integ!.id);
        const groups = p.transforms.filter((t) => t.type === Tt.DH && s.dh.includes(t.id));
        const dhT = groups.find((t) => t.id === this.o.answerGroup) ?? groups[0];
        if (encr === undefined || prfT === undefined || dhT === undefined) continue;
        if (s.integ !== undefined && integ === undefined) continue;
        if (ke.group !== dhT.id) return [notify(Nt.INVALID_KE_PAYLOAD, u16(dhT.id))];
        const dh = dhKey(dhT.id);
        const spiR = this.rand(8);
        const nr = this.rand(this.o.nonceLen ?? 32);
        const keys = rekeyKeys(
          sa.suite.prf!.hash,
          s.prf!.hash,
          ikeKeySizes(s),
          sa.keys.d,
          dh.shared(ke.data),
          nP.body,
          nr,
          p.spi,
          spiR,
        );
        this.lastAnswered = { ni: nP.body, nr };
        const fresh: IkeSaState = {
          spiI: p.spi,
          spiR,
          suite: s,
          keys,
          weInitiated: false,
          msgId: 0,
          peerMsgId: 0,
          lastResponse: [],
        };
        this.known.push(fresh);
        this.old = sa;
        this.sa = fresh;
        const chosenT = [encr, prfT, ...(integ === undefined ? [] : [integ]), dhT];
        return [
          {
            type: Pt.SA,
            body: saBody([{ num: p.num, protocol: Proto.IKE, spi: spiR, transforms: chosenT }]),
          },
          { type: Pt.NONCE, body: nr },
          { type: Pt.KE, body: keBody(dh.group, dh.pub) },
        ];
      }
    }
    return [notify(Nt.NO_PROPOSAL_CHOSEN)];
  }

  /** The nonce we sent in our latest pending CREATE_CHILD_SA (collision tests compare it). */
  get pendingNonce(): Uint8Array | undefined {
    const p = this.#pending;
    return p?.kind === "child" || p?.kind === "ike" ? p.ni : undefined;
  }
}

function integName(s: Suite): string {
  return { sha1: "sha1", sha256: "sha256", sha384: "sha384", sha512: "sha512" }[
    s.integ!.hash as "sha1"
  ];
}

/** IKE_AUTH variations. */
export interface AuthOptions {
  /** IDi to send (default: the configured one). */
  readonly id?: Identity;
  /** IDr to send. */
  readonly idr?: Identity;
  /** A different PSK for our AUTH (wrong-key tests). */
  readonly psk?: string;
  /** Raw AUTH data instead of the computed value. */
  readonly auth?: Uint8Array;
  /** Send INITIAL_CONTACT. */
  readonly initialContact?: boolean;
  /** TSi. */
  readonly tsi?: readonly Selector[];
  /** TSr. */
  readonly tsr?: readonly Selector[];
  /** Leave out SA/TSi/TSr (no CHILD_SA). */
  readonly noChild?: boolean;
  /** More payloads at the end (padding notifies to force fragmentation, unknown payloads). */
  readonly extra?: readonly Payload[];
  /** Flip a bit of our signature (certificate authentication). */
  readonly corruptSig?: boolean;
}

/** CREATE_CHILD_SA variations. */
export interface ChildOptions {
  /** ESP proposals (with a DH keyword when `pfs` is set). */
  readonly esp?: readonly string[];
  /** A KE of this group (PFS). */
  readonly pfs?: number;
  /** Rekey this child (REKEY_SA with its inbound SPI). */
  readonly rekey?: Child;
  /** TSi. */
  readonly tsi?: readonly Selector[];
  /** TSr. */
  readonly tsr?: readonly Selector[];
}
