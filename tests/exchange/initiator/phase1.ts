/**
 * A scripted IKEv1 Phase 1 initiator (Main Mode and Aggressive Mode with a pre-shared key),
 * written from RFC 2409 §5, Appendix B and RFC 3947 independently of the responder: HMAC,
 * hashes, AES-CBC and MODP-2048 Diffie-Hellman from node:crypto, payloads with the codec. After
 * Phase 1 it encrypts and decrypts Quick Mode / Informational messages with the Phase 2 IVs.
 */

import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  getDiffieHellman,
  randomBytes,
} from "node:crypto";
import {
  decodeV1Message,
  decodeV1Payloads,
  encodeV1Chain,
  encodeV1EncryptedMessage,
  encodeV1Message,
} from "../../../src/ike/message/v1/mod.ts";
import type {
  DataAttribute,
  DecodedPayloadV1,
  PayloadV1,
  TransformV1,
} from "../../../src/ike/message/v1/mod.ts";
import { signRaw, type SigOptions, verifyRaw } from "./signatures.ts";

/** Concatenation. */
export function cat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** Big-endian u32. */
export function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v);
  return b;
}

/** Where a datagram goes. */
export interface Ep {
  /** Address. */
  readonly address: string;
  /** Port. */
  readonly port: number;
}

/** Initiator settings. */
export interface InitiatorOptions {
  /** The pre-shared key. */
  readonly psk: string;
  /** Signature authentication instead (RFC 2409 §5.1): key, certificates, method. */
  readonly sig?: SigOptions;
  /** Transforms offered in the single ISAKMP proposal (default: AES-128/SHA-256/MODP-2048/PSK). */
  readonly transforms?: readonly (readonly DataAttribute[])[];
  /** Our ID payload: FQDN text or an IPv4 address (default: our address). */
  readonly id?: { readonly type: 1 | 2 | 3 | 9 | 11; readonly data: Uint8Array };
  /** NAT-T vendor ID flavour to announce. */
  readonly natt?: "rfc" | "draft";
  /** Announce DPD. */
  readonly dpd?: boolean;
  /** Our address and port as we believe them (for our NAT-D). */
  readonly self: Ep;
  /** The responder's address and port as we address it (for its NAT-D). */
  readonly responder: Ep;
  /** Send a fake NAT-D for ourselves (strongSwan's encap = yes). */
  readonly fakeNatD?: boolean;
}

const a = (type: number, value: number): DataAttribute => ({ type, value });

/** AES-128-CBC, SHA2-256, PSK, MODP-2048, 3600 s (RFC 2409 App. A attribute numbers). */
export const DEFAULT_TRANSFORM: readonly DataAttribute[] = [
  a(1, 7),
  a(14, 128),
  a(2, 4),
  a(3, 1),
  a(4, 14),
  a(11, 1),
  a(12, 3600),
];

const VID_RFC3947 = Buffer.from("RFC 3947");
const VID_DRAFT03 = Buffer.from("draft-ietf-ipsec-nat-t-ike-03");
const DPD_VID = Uint8Array.from([
  0xaf,
  0xca,
  0xd7,
  0x13,
  0x68,
  0xa1,
  0xf1,
  0xc9,
  0x6b,
  0x86,
  0x96,
  0xfc,
  0x77,
  0x57,
  0x01,
  0x00,
]);

/** MODP values are fixed-length (RFC 2409 §5: g^x as long as the prime); node may drop zeros. */
function pad256(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(256);
  out.set(b, 256 - b.length);
  return out;
}

function md5(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("md5").update(b).digest());
}

/** The scripted initiator. */
export class Phase1Initiator {
  /** Initiator cookie. */
  readonly ckyI: Uint8Array = new Uint8Array(randomBytes(8));
  /** Responder cookie, once message 2 is read. */
  ckyR: Uint8Array = new Uint8Array(8);
  /** Ni_b. */
  readonly ni: Uint8Array = new Uint8Array(randomBytes(32));
  /** Nr_b. */
  nr: Uint8Array = new Uint8Array(0);
  readonly #dh = getDiffieHellman("modp14");
  /** g^xi. */
  readonly gxi: Uint8Array;
  /** g^xr. */
  gxr: Uint8Array = new Uint8Array(0);
  /** SAi_b. */
  saiB: Uint8Array = new Uint8Array(0);
  /** SKEYID and friends. */
  skeyid: Uint8Array = new Uint8Array(0);
  /** SKEYID_d. */
  skeyidD: Uint8Array = new Uint8Array(0);
  /** SKEYID_a. */
  skeyidA: Uint8Array = new Uint8Array(0);
  /** SKEYID_e. */
  skeyidE: Uint8Array = new Uint8Array(0);
  /** The encryption key (AES-128: first 16 bytes of SKEYID_e). */
  key: Uint8Array = new Uint8Array(0);
  /** Phase 1 IV chain. */
  iv: Uint8Array = new Uint8Array(0);
  /** Per message ID IVs after Phase 1. */
  readonly ivs = new Map<number, Uint8Array>();
  /** What message 2 chose. */
  chosen: TransformV1 | undefined;
  /** Payloads of the last message read. */
  last: readonly DecodedPayloadV1[] = [];
  #idiB = new Uint8Array(0);

  /** A new initiator. */
  constructor(readonly o: InitiatorOptions) {
    this.#dh.generateKeys();
    this.gxi = pad256(this.#dh.getPublicKey());
  }

  #prf(key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
    const h = createHmac("sha256", key);
    for (const d of data) h.update(d);
    return new Uint8Array(h.digest());
  }

  #hash(...data: Uint8Array[]): Uint8Array {
    const h = createHash("sha256");
    for (const d of data) h.update(d);
    return new Uint8Array(h.digest());
  }

  #vids(): PayloadV1[] {
    const out: PayloadV1[] = [];
    if (this.o.natt === "rfc") out.push({ kind: "vid", data: md5(VID_RFC3947) });
    if (this.o.natt === "draft") out.push({ kind: "vid", data: md5(VID_DRAFT03) });
    if (this.o.dpd === true) out.push({ kind: "vid", data: DPD_VID });
    return out;
  }

  #sa(): PayloadV1 {
    const method = this.o.sig?.method ?? 1;
    const ts = this.o.transforms ??
      [DEFAULT_TRANSFORM.map((x) => x.type === 3 ? { type: 3, value: method } : x)];
    const sa: PayloadV1 = {
      kind: "sa",
      doi: 1,
      situation: 1,
      proposals: [{
        number: 1,
        protocol: 1,
        spi: new Uint8Array(0),
        transforms: ts.map((attributes, i) => ({ number: i + 1, id: 1, attributes })),
      }],
    };
    this.saiB = encodeV1Chain([sa]).bytes.slice(4);
    return sa;
  }

  #idPayload(): PayloadV1 {
    const id = this.o.id ?? {
      type: 1 as const,
      data: Uint8Array.from(this.o.self.address.split(".").map(Number)),
    };
    const p: PayloadV1 = { kind: "id", idType: id.type, protocol: 17, port: 500, data: id.data };
    this.#idiB = encodeV1Chain([p]).bytes.slice(4);
    return p;
  }

  #natD(): PayloadV1[] {
    if (this.o.natt === undefined) return [];
    const type = this.o.natt === "rfc" ? 20 : 130;
    const h = (ep: Ep) => {
      const ip = Uint8Array.from(ep.address.split(".").map(Number));
      return this.#hash(this.ckyI, this.ckyR, ip, Uint8Array.of(ep.port >> 8, ep.port & 255));
    };
    const self = this.o.fakeNatD === true ? new Uint8Array(randomBytes(32)) : h(this.o.self);
    return [{ kind: "nat-d", type, hash: h(this.o.responder) }, {
      kind: "nat-d",
      type,
      hash: self,
    }];
  }

  #plain(exchangeType: number, payloads: PayloadV1[]): Uint8Array {
    return encodeV1Message(
      { spiI: this.ckyI, spiR: this.ckyR, exchangeType, flags: 0, messageId: 0 },
      payloads,
    );
  }

  /** Main Mode message 1: SA and vendor IDs. */
  mm1(): Uint8Array {
    return this.#plain(2, [this.#sa(), ...this.#vids()]);
  }

  /** Reads a plaintext message 2 (MM or AM): the cookie and the chosen transform. */
  readPlain(datagram: Uint8Array): readonly DecodedPayloadV1[] {
    const m = decodeV1Message(datagram);
    if (!m.ok) throw new Error(`response does not decode: ${m.error.message}`);
    if (m.value.encrypted) throw new Error("expected a plaintext response");
    this.ckyR = m.value.header.spiR.slice();
    this.last = m.value.payloads;
    const sa = this.last.find((p) => p.kind === "sa");
    if (sa?.kind === "sa") this.chosen = sa.proposals[0]?.transforms[0];
    return this.last;
  }

  /** Main Mode message 3: KE, Ni and NAT-D. */
  mm3(): Uint8Array {
    return this.#plain(2, [
      { kind: "ke", data: this.gxi },
      { kind: "nonce", data: this.ni },
      ...this.#natD(),
    ]);
  }

  /** Reads message 4 and derives the keys (RFC 2409 §5, Appendix B). */
  readMm4(datagram: Uint8Array): readonly DecodedPayloadV1[] {
    const p = this.readPlain(datagram);
    this.#keys(p);
    return p;
  }

  #keys(p: readonly DecodedPayloadV1[]): void {
    const ke = p.find((x) => x.kind === "ke");
    const nr = p.find((x) => x.kind === "nonce");
    if (ke?.kind !== "ke" || nr?.kind !== "nonce") throw new Error("no KE/Nr");
    this.gxr = ke.data.slice();
    this.nr = nr.data.slice();
    const gxy = pad256(this.#dh.computeSecret(this.gxr));
    // RFC 2409 §5: signatures use SKEYID = prf(Ni_b | Nr_b, g^xy).
    this.skeyid = this.o.sig === undefined
      ? this.#prf(new TextEncoder().encode(this.o.psk), this.ni, this.nr)
      : this.#prf(cat(this.ni, this.nr), gxy);
    this.skeyidD = this.#prf(this.skeyid, gxy, this.ckyI, this.ckyR, Uint8Array.of(0));
    this.skeyidA = this.#prf(
      this.skeyid,
      this.skeyidD,
      gxy,
      this.ckyI,
      this.ckyR,
      Uint8Array.of(1),
    );
    this.skeyidE = this.#prf(
      this.skeyid,
      this.skeyidA,
      gxy,
      this.ckyI,
      this.ckyR,
      Uint8Array.of(2),
    );
    this.key = this.skeyidE.slice(0, 16);
    this.iv = this.#hash(this.gxi, this.gxr).slice(0, 16);
  }

  /** HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b). */
  hashI(): Uint8Array {
    return this.#prf(this.skeyid, this.gxi, this.gxr, this.ckyI, this.ckyR, this.saiB, this.#idiB);
  }

  /** HASH_R over the responder's IDir_b. */
  hashR(idrB: Uint8Array): Uint8Array {
    return this.#prf(this.skeyid, this.gxr, this.gxi, this.ckyR, this.ckyI, this.saiB, idrB);
  }

  #encrypt(iv: Uint8Array, plain: Uint8Array): Uint8Array {
    const padded = new Uint8Array(Math.ceil(plain.length / 16) * 16 || 16);
    padded.set(plain);
    const c = createCipheriv("aes-128-cbc", this.key, iv).setAutoPadding(false);
    return new Uint8Array(Buffer.concat([c.update(padded), c.final()]));
  }

  #decrypt(iv: Uint8Array, body: Uint8Array): Uint8Array {
    const d = createDecipheriv("aes-128-cbc", this.key, iv).setAutoPadding(false);
    return new Uint8Array(Buffer.concat([d.update(body), d.final()]));
  }

  /** Main Mode message 5: IDii, HASH_I [, INITIAL-CONTACT], encrypted. */
  mm5(opts: { initialContact?: boolean; corruptHash?: boolean } = {}): Uint8Array {
    const id = this.#idPayload();
    const payloads: PayloadV1[] = [id, ...this.#proof(opts.corruptHash === true)];
    if (opts.initialContact === true) {
      payloads.push({
        kind: "n",
        doi: 1,
        protocol: 1,
        spi: cat(this.ckyI, this.ckyR),
        notifyType: 24578,
        data: new Uint8Array(0),
      });
    }
    const chain = encodeV1Chain(payloads);
    const ct = this.#encrypt(this.iv, chain.bytes);
    this.iv = ct.slice(ct.length - 16);
    return encodeV1EncryptedMessage(
      { spiI: this.ckyI, spiR: this.ckyR, exchangeType: 2, flags: 0, messageId: 0 },
      chain.firstType,
      ct,
    );
  }

  /** HASH_I, or CERTs and SIG_I (its signature flipped when `corrupt`). */
  #proof(corrupt: boolean): PayloadV1[] {
    const h = this.hashI();
    const sig = this.o.sig;
    if (sig === undefined) {
      if (corrupt) h[0] = h[0]! ^ 1;
      return [{ kind: "hash", data: h }];
    }
    const s = signRaw(sig.key, h);
    if (corrupt) s[s.length - 1] = s[s.length - 1]! ^ 1;
    return [
      ...sig.certs.map((data) => ({ kind: "cert" as const, encoding: 4, data })),
      { kind: "sig", data: s },
    ];
  }

  /** Checks the responder's HASH_R or (with signatures) its CERT and SIG_R. */
  #checkProof(p: readonly DecodedPayloadV1[], msg: string): void {
    const id = p.find((x) => x.kind === "id");
    if (id === undefined) throw new Error(`${msg} lacks ID`);
    if (this.o.sig !== undefined) {
      const sig = p.find((x) => x.kind === "sig");
      const cert = p.find((x) => x.kind === "cert");
      if (sig?.kind !== "sig" || cert?.kind !== "cert") {
        throw new Error(`${msg} lacks CERT/SIG: ${p.map((x) => x.kind).join(",")}`);
      }
      if (!verifyRaw(cert.data, this.hashR(id.body), sig.data)) throw new Error("SIG_R wrong");
      return;
    }
    const hash = p.find((x) => x.kind === "hash");
    if (hash?.kind !== "hash") throw new Error(`${msg} lacks ID/HASH`);
    if (Buffer.compare(this.hashR(id.body), hash.data) !== 0) throw new Error("HASH_R wrong");
  }

  /** Reads message 6 and checks HASH_R; throws when it does not verify. */
  readMm6(datagram: Uint8Array): readonly DecodedPayloadV1[] {
    const m = decodeV1Message(datagram);
    if (!m.ok || !m.value.encrypted) throw new Error("message 6 must be encrypted");
    const plain = this.#decrypt(this.iv, m.value.body);
    this.iv = m.value.body.slice(m.value.body.length - 16);
    const d = decodeV1Payloads(m.value.header.nextPayload, plain);
    if (!d.ok) throw new Error(`message 6 does not decode: ${d.error.message}`);
    this.last = d.value.payloads;
    this.#checkProof(this.last, "message 6");
    return this.last;
  }

  /** Aggressive Mode message 1: SA, KE, Ni, IDii and vendor IDs. */
  am1(): Uint8Array {
    return this.#plain(4, [
      this.#sa(),
      { kind: "ke", data: this.gxi },
      { kind: "nonce", data: this.ni },
      this.#idPayload(),
      ...this.#vids(),
    ]);
  }

  /** Reads Aggressive Mode message 2, derives keys and checks HASH_R. */
  readAm2(datagram: Uint8Array): readonly DecodedPayloadV1[] {
    const p = this.readPlain(datagram);
    this.#keys(p);
    this.#checkProof(p, "message 2");
    return p;
  }

  /** Aggressive Mode message 3: HASH_I [, NAT-D], encrypted. */
  am3(opts: { corruptHash?: boolean } = {}): Uint8Array {
    const chain = encodeV1Chain([...this.#proof(opts.corruptHash === true), ...this.#natD()]);
    const ct = this.#encrypt(this.iv, chain.bytes);
    this.iv = ct.slice(ct.length - 16);
    return encodeV1EncryptedMessage(
      { spiI: this.ckyI, spiR: this.ckyR, exchangeType: 4, flags: 0, messageId: 0 },
      chain.firstType,
      ct,
    );
  }

  #midIv(mid: number): Uint8Array {
    return this.ivs.get(mid) ?? this.#hash(this.iv, u32(mid)).slice(0, 16);
  }

  /** An encrypted message in exchange `mid` carrying the chain `bytes` (first payload `first`). */
  encrypted(exchangeType: number, mid: number, first: number, bytes: Uint8Array, flags = 0) {
    const ct = this.#encrypt(this.#midIv(mid), bytes);
    this.ivs.set(mid, ct.slice(ct.length - 16));
    return encodeV1EncryptedMessage(
      { spiI: this.ckyI, spiR: this.ckyR, exchangeType, flags, messageId: mid },
      first,
      ct,
    );
  }

  /** An Informational with HASH(1) = prf(SKEYID_a, M-ID | payload). */
  informational(mid: number, payload: PayloadV1, opts: { corruptHash?: boolean } = {}) {
    const rest = encodeV1Chain([payload]).bytes;
    const h = this.#prf(this.skeyidA, u32(mid), rest);
    if (opts.corruptHash === true) h[0] = h[0]! ^ 1;
    const chain = encodeV1Chain([{ kind: "hash", data: h }, payload]);
    return this.encrypted(5, mid, chain.firstType, chain.bytes);
  }

  /** Decrypts a message after Phase 1; returns header fields and the plaintext chain. */
  open(
    datagram: Uint8Array,
  ): {
    exchangeType: number;
    messageId: number;
    first: number;
    plain: Uint8Array;
    payloads: readonly DecodedPayloadV1[];
  } {
    const m = decodeV1Message(datagram);
    if (!m.ok || !m.value.encrypted) throw new Error("expected an encrypted message");
    const mid = m.value.header.messageId;
    const plain = this.#decrypt(this.#midIv(mid), m.value.body);
    this.ivs.set(mid, m.value.body.slice(m.value.body.length - 16));
    const d = decodeV1Payloads(m.value.header.nextPayload, plain);
    if (!d.ok) throw new Error(`does not decode: ${d.error.message}`);
    return {
      exchangeType: m.value.header.exchangeType,
      messageId: mid,
      first: m.value.header.nextPayload,
      plain: d.value.bytes,
      payloads: d.value.payloads,
    };
  }

  /** Checks HASH(1) of a received Informational. */
  checkInfoHash(mid: number, payloads: readonly DecodedPayloadV1[], plain: Uint8Array): boolean {
    const h = payloads[0];
    if (h?.kind !== "hash") return false;
    const want = this.#prf(this.skeyidA, u32(mid), plain.subarray(h.raw.length));
    return Buffer.compare(want, h.data) === 0;
  }
}
