/**
 * A scripted IKEv1 Quick Mode initiator for exchange tests, written from RFC 2409 §5.5 and
 * RFC 2407 independently of the responder: hashes and KEYMAT with node:crypto HMAC, PFS with
 * node:crypto Diffie-Hellman (MODP 14, ECP 256), payloads with the codec. It works on decrypted
 * payload chains; encryption belongs to the Phase 1 layer.
 */

import { createECDH, createHmac, getDiffieHellman, randomBytes } from "node:crypto";
import { type ChainV1, decodeV1Payloads, encodeV1Chain } from "../../../src/ike/message/v1/mod.ts";
import type {
  DataAttribute,
  DecodedPayloadV1,
  IdPayloadV1,
  PayloadV1,
  TransformV1,
} from "../../../src/ike/message/v1/mod.ts";

/** HMAC hash names node knows, for the Phase 1 PRF. */
export type NodeHash = "sha1" | "sha256";

/** One offered ESP transform (attributes as on the wire). */
export interface OfferedTransform {
  /** ESP transform ID (12 AES-CBC, 20 AES-GCM-16, 3 3DES). */
  readonly id: number;
  /** SA attributes. */
  readonly attributes: readonly DataAttribute[];
}

/** What the scripted initiator offers. */
export interface QmOffer {
  /** Phase 1 PRF hash. */
  readonly hash: NodeHash;
  /** SKEYID_d and SKEYID_a shared with the responder. */
  readonly skeyidD: Uint8Array;
  /** SKEYID_a. */
  readonly skeyidA: Uint8Array;
  /** Message ID of this Quick Mode. */
  readonly messageId: number;
  /** Our (initiator's) inbound SPI. */
  readonly spi: number;
  /** Transforms in one ESP proposal. */
  readonly transforms: readonly OfferedTransform[];
  /** PFS group (14 or 19), omitted without PFS. */
  readonly pfsGroup?: 14 | 19;
  /** IDci, IDcr; omitted to use the Phase 1 addresses. */
  readonly ids?: readonly [IdPayloadV1, IdPayloadV1] | undefined;
  /** Extra payloads appended to message 1 (e.g. a Notify). */
  readonly extra?: readonly PayloadV1[];
}

/** What the responder answered in message 2. */
export interface QmReply {
  /** The responder's SPI. */
  readonly responderSpi: number;
  /** The transform it chose. */
  readonly chosen: TransformV1;
  /** Nr_b. */
  readonly nr: Uint8Array;
  /** Its KE, if any. */
  readonly ke?: Uint8Array;
  /** IDci, IDcr echoed or narrowed. */
  readonly ids: IdPayloadV1[];
  /** Notify payloads (RESPONDER-LIFETIME…). */
  readonly notifies: DecodedPayloadV1[];
}

const u32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0);
  return b;
};
const cat = (...p: Uint8Array[]) => new Uint8Array(Buffer.concat(p));
const mac = (h: NodeHash, k: Uint8Array, ...d: Uint8Array[]) =>
  new Uint8Array(createHmac(h, k).update(cat(...d)).digest());

/** A Diffie-Hellman key of our own (node:crypto), public value in IKE encoding. */
class Dh {
  readonly publicValue: Uint8Array;
  readonly #secret: (peer: Uint8Array) => Uint8Array;
  constructor(group: 14 | 19) {
    if (group === 14) {
      const dh = getDiffieHellman("modp14");
      dh.generateKeys();
      this.publicValue = new Uint8Array(dh.getPublicKey());
      this.#secret = (p) => {
        const s = new Uint8Array(dh.computeSecret(p));
        return cat(new Uint8Array(256 - s.length), s); // RFC 2409: g^xy padded to the prime length
      };
    } else {
      const ec = createECDH("prime256v1");
      ec.generateKeys();
      this.publicValue = new Uint8Array(ec.getPublicKey()).subarray(1); // RFC 5903 §7: x | y
      this.#secret = (p) => new Uint8Array(ec.computeSecret(cat(Uint8Array.of(4), p)));
    }
  }
  shared(peer: Uint8Array): Uint8Array {
    return this.#secret(peer);
  }
}

/** The initiator of one Quick Mode. */
export class QuickModeInitiator {
  /** Ni_b. */
  readonly ni: Uint8Array = new Uint8Array(randomBytes(24));
  readonly #dh: Dh | undefined;
  #reply: QmReply | undefined;

  /** An initiator making `offer`. */
  constructor(readonly offer: QmOffer) {
    this.#dh = offer.pfsGroup === undefined ? undefined : new Dh(offer.pfsGroup);
  }

  /** Message 1 as a decrypted chain: HASH(1), SA, Ni [, KE] [, IDci, IDcr]. */
  message1(
    opts: { corruptHash?: boolean; drop?: PayloadV1["kind"] } = {},
  ): { chain: ChainV1; bytes: Uint8Array } {
    const o = this.offer;
    const rest: PayloadV1[] = [
      {
        kind: "sa",
        doi: 1,
        situation: 1,
        proposals: [{
          number: 1,
          protocol: 3,
          spi: u32(o.spi),
          transforms: o.transforms.map((t, i) => ({
            number: i + 1,
            id: t.id,
            attributes: t.attributes,
          })),
        }],
      },
      { kind: "nonce", data: this.ni },
    ];
    if (this.#dh !== undefined) rest.push({ kind: "ke", data: this.#dh.publicValue });
    if (o.ids !== undefined) rest.push(...o.ids);
    if (o.extra !== undefined) rest.push(...o.extra);
    const sent = rest.filter((p) => p.kind !== opts.drop);
    const after = encodeV1Chain(sent).bytes;
    // RFC 2409 §5.5: HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [ | KE ] [ | IDci | IDcr ]).
    const hash = mac(o.hash, o.skeyidA, u32(o.messageId), after);
    if (opts.corruptHash === true) hash[0] = hash[0]! ^ 1;
    return this.#chain([{ kind: "hash", data: hash }, ...sent]);
  }

  #chain(payloads: PayloadV1[]): { chain: ChainV1; bytes: Uint8Array } {
    const enc = encodeV1Chain(payloads);
    const d = decodeV1Payloads(enc.firstType, enc.bytes);
    if (!d.ok) throw new Error(`own message does not decode: ${d.error.message}`);
    return { chain: d.value, bytes: enc.bytes };
  }

  /** Reads message 2 (first payload type `first`, plaintext `bytes`); throws when HASH(2) is wrong. */
  readMessage2(first: number, bytes: Uint8Array): QmReply {
    const d = decodeV1Payloads(first, bytes);
    if (!d.ok) throw new Error(`message 2 does not decode: ${d.error.message}`);
    const [hash, ...rest] = d.value.payloads;
    if (hash?.kind !== "hash") throw new Error("message 2 does not start with HASH(2)");
    const after = bytes.subarray(hash.raw.length);
    // HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [ | KE ] [ | IDci | IDcr ]).
    const want = mac(
      this.offer.hash,
      this.offer.skeyidA,
      u32(this.offer.messageId),
      this.ni,
      after,
    );
    if (Buffer.compare(want, hash.data) !== 0) throw new Error("HASH(2) does not verify");
    const sa = rest.find((p) => p.kind === "sa");
    const nonce = rest.find((p) => p.kind === "nonce");
    if (sa?.kind !== "sa" || nonce?.kind !== "nonce") throw new Error("message 2 lacks SA or Nr");
    const prop = sa.proposals[0];
    const chosen = prop?.transforms[0];
    if (
      sa.proposals.length !== 1 || prop === undefined || prop.transforms.length !== 1 || !chosen
    ) {
      throw new Error("message 2 SA must hold one proposal with one transform");
    }
    const ke = rest.find((p) => p.kind === "ke");
    this.#reply = {
      responderSpi: new DataView(prop.spi.buffer, prop.spi.byteOffset, 4).getUint32(0),
      chosen,
      nr: nonce.data.slice(),
      ...(ke?.kind === "ke" ? { ke: ke.data.slice() } : {}),
      ids: rest.filter((p): p is IdPayloadV1 & DecodedPayloadV1 => p.kind === "id"),
      notifies: rest.filter((p) => p.kind === "n"),
    };
    return this.#reply;
  }

  /** Message 3: HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b). */
  message3(opts: { corruptHash?: boolean } = {}): { chain: ChainV1; bytes: Uint8Array } {
    const r = this.#need();
    const h = mac(
      this.offer.hash,
      this.offer.skeyidA,
      Uint8Array.of(0),
      u32(this.offer.messageId),
      this.ni,
      r.nr,
    );
    if (opts.corruptHash === true) h[h.length - 1] = h[h.length - 1]! ^ 0x80;
    return this.#chain([{ kind: "hash", data: h }]);
  }

  #need(): QmReply {
    if (this.#reply === undefined) throw new Error("no message 2 read yet");
    return this.#reply;
  }

  /**
   * KEYMAT (RFC 2409 §5.5) of `length` octets for the SA whose destination chose `spi`:
   * K1 = prf(SKEYID_d, [g(qm)^xy |] 3 | SPI | Ni_b | Nr_b), Kn = prf(SKEYID_d, Kn-1 | …).
   */
  keymat(spi: number, length: number): Uint8Array {
    const r = this.#need();
    const g = this.#dh !== undefined && r.ke !== undefined
      ? this.#dh.shared(r.ke)
      : new Uint8Array(0);
    const tail = cat(g, Uint8Array.of(3), u32(spi), this.ni, r.nr);
    let out = new Uint8Array(0);
    let k = new Uint8Array(0);
    while (out.length < length) {
      k = mac(this.offer.hash, this.offer.skeyidD, k, tail);
      out = cat(out, k);
    }
    return out.subarray(0, length);
  }
}

/** A Quick Mode message 1 or 3 as the responder's dispatcher would hand it over. */
export function qmMessage(
  messageId: number,
  m: { chain: ChainV1; bytes: Uint8Array },
  flags = 0,
): { messageId: number; flags: number; chain: ChainV1; datagram: Uint8Array } {
  return { messageId, flags, chain: m.chain, datagram: cat(u32(messageId), m.bytes) };
}
