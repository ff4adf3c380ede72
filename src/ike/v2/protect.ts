/**
 * IKEv2 message protection: the Encrypted payload (SK, RFC 7296 §3.14) with a CBC cipher and
 * a truncated HMAC over the whole message, or an AEAD (AES-GCM RFC 5282, ChaCha20-Poly1305
 * RFC 7634) whose associated data is the message up to the end of the SK payload header
 * (RFC 5282 §5.1); and IKE fragmentation (RFC 7383): outgoing messages above the limit are
 * sent as Encrypted Fragment (SKF) messages, each protected on its own (§2.5). Nothing here
 * changes SA state; a failed check returns a reason.
 * @module
 */

import {
  AEAD_KEY_LENGTH,
  CIPHER_BLOCK,
  CIPHER_KEY_LENGTH,
  MAC_PARAMS,
} from "../../crypto/params.ts";
import type {
  AeadAlg,
  AeadContext,
  CipherAlg,
  CipherContext,
  MacAlg,
  MacContext,
} from "../../crypto/types.ts";
import { concat } from "../../crypto/kdf/primitives.ts";
import type { CryptoRegistry } from "../../crypto/registry.ts";
import { HEADER_LENGTH } from "../message/header.ts";
import { decodeV2Payloads, encodeV2Chain } from "../message/v2/chain.ts";
import { encodeV2Message, type HeaderInputV2 } from "../message/v2/message.ts";
import { PayloadTypeV2 } from "../message/v2/registry.ts";
import { splitEncrypted, stripPadding } from "../message/v2/sk.ts";
import type {
  DecodedPayloadV2,
  PayloadV2,
  SkfPayloadV2,
  SkPayloadV2,
} from "../message/v2/types.ts";

/** The crypto calls protection makes (the registry satisfies it). */
export type ProtectCrypto = Pick<CryptoRegistry, "aead" | "cipher" | "mac" | "randomBytes">;

/**
 * The IKE SA's encryption algorithms: an AEAD alone, or a CBC cipher with an integrity
 * algorithm (RFC 7296 §3.3.3) — the two shapes are distinct types, so neither is half set.
 */
export type SkAlgorithms =
  | {
    /** AEAD (no integrity algorithm). */
    readonly aead: AeadAlg;
    readonly cipher?: undefined;
    readonly integ?: undefined;
  }
  | {
    readonly aead?: undefined;
    /** CBC cipher. */
    readonly cipher: CipherAlg;
    /** Integrity algorithm. */
    readonly integ: MacAlg;
  };

/** Keys of one direction: SK_e (with the AEAD salt at its end) and SK_a. */
export interface DirectionKeys {
  /** SK_ei or SK_er. */
  readonly e: Uint8Array;
  /** SK_ai or SK_ar (empty with an AEAD). */
  readonly a: Uint8Array;
}

/** SK_e length (AEAD key plus 4-octet salt, RFC 5282 §7.1 / RFC 7634 §4) and SK_a length. */
export function skKeyLengths(alg: SkAlgorithms): { encr: number; integ: number } {
  if (alg.aead !== undefined) return { encr: AEAD_KEY_LENGTH[alg.aead] + 4, integ: 0 };
  return { encr: CIPHER_KEY_LENGTH[alg.cipher], integ: MAC_PARAMS[alg.integ].keyLength };
}

/** IV and ICV lengths: 8 and 16 for the AEADs (RFC 5282 §3.1, RFC 7634 §3). */
function ivIcv(alg: SkAlgorithms): { iv: number; icv: number; block: number } {
  if (alg.aead !== undefined) return { iv: 8, icv: 16, block: 1 };
  const block = CIPHER_BLOCK[alg.cipher];
  return { iv: block, icv: MAC_PARAMS[alg.integ].icvLength, block };
}

/** Bytes protection adds around `n` plaintext octets (IV, padding, pad length, ICV). */
export function overhead(alg: SkAlgorithms, n: number): number {
  const { iv, icv, block } = ivIcv(alg);
  const padded = Math.ceil((n + 1) / block) * block;
  return iv + (padded - n) + icv;
}

/** The keyed contexts of one codec, made on first use (a slot per direction and kind). */
interface KeyedContexts {
  sealAead?: AeadContext;
  openAead?: AeadContext;
  sealCipher?: CipherContext;
  openCipher?: CipherContext;
  sealMac?: MacContext;
  openMac?: MacContext;
}

function freeContexts(c: KeyedContexts): void {
  for (const k of Object.keys(c) as (keyof KeyedContexts)[]) {
    c[k]?.dispose();
    delete c[k];
  }
}

/** Frees the contexts of a codec that was dropped without {@link SkCodec.dispose}. */
const unreleased = new FinalizationRegistry<KeyedContexts>(freeContexts);

/**
 * One IKE SA's protection with fixed algorithms and keys. The keyed cipher/MAC contexts are
 * made on first use and kept until {@link dispose} (the SA's end), not made per message.
 */
export class SkCodec {
  readonly #ctx: KeyedContexts = {};

  /** A codec sealing with `out` keys and opening with `inn` keys. */
  constructor(
    readonly crypto: ProtectCrypto,
    readonly alg: SkAlgorithms,
    readonly inn: DirectionKeys,
    readonly out: DirectionKeys,
  ) {
    unreleased.register(this, this.#ctx, this);
  }

  /** Frees the keyed contexts (the IKE SA is gone); a later use would make them again. */
  dispose(): void {
    freeContexts(this.#ctx);
  }

  #aead(seal: boolean, alg: AeadAlg, key: Uint8Array): AeadContext {
    const c = this.#ctx;
    return seal
      ? (c.sealAead ??= this.crypto.aead(alg, key))
      : (c.openAead ??= this.crypto.aead(alg, key));
  }

  #cipher(seal: boolean, alg: CipherAlg, key: Uint8Array): CipherContext {
    const c = this.#ctx;
    return seal
      ? (c.sealCipher ??= this.crypto.cipher(alg, key))
      : (c.openCipher ??= this.crypto.cipher(alg, key));
  }

  #mac(seal: boolean, alg: MacAlg, key: Uint8Array): MacContext {
    const c = this.#ctx;
    return seal
      ? (c.sealMac ??= this.crypto.mac(alg, key))
      : (c.openMac ??= this.crypto.mac(alg, key));
  }

  /**
   * Seals `inner` (already encoded payloads) into an SK or SKF payload of a message with
   * `header` and the unencrypted `before` payloads; returns the datagram.
   */
  #seal(
    header: HeaderInputV2,
    firstType: number,
    inner: Uint8Array,
    frag?: { readonly number: number; readonly total: number },
  ): Uint8Array {
    const alg = this.alg;
    const { iv: ivLen, icv, block } = ivIcv(alg);
    const padded = Math.ceil((inner.length + 1) / block) * block;
    const pad = padded - inner.length - 1;
    const plain = new Uint8Array(padded);
    plain.set(inner);
    plain[padded - 1] = pad; // RFC 7296 §3.14: padding octets (zero here), then the pad length.
    const iv = this.crypto.randomBytes(ivLen);
    const dataLen = ivLen + padded + icv;
    const placeholder = new Uint8Array(dataLen);
    const payload: SkPayloadV2 | SkfPayloadV2 = frag === undefined
      ? { kind: "sk", next: firstType, data: placeholder }
      : {
        kind: "skf",
        next: frag.number === 1 ? firstType : 0,
        fragmentNumber: frag.number,
        totalFragments: frag.total,
        data: placeholder,
      };
    const msg = encodeV2Message(header, [payload]);
    const dataAt = msg.length - dataLen;
    msg.set(iv, dataAt);
    const ctAt = dataAt + ivLen;
    msg.set(plain, ctAt);
    if (alg.aead !== undefined) {
      const keyLen = AEAD_KEY_LENGTH[alg.aead];
      const ctx = this.#aead(true, alg.aead, this.out.e.subarray(0, keyLen));
      const nonce = concat(this.out.e.subarray(keyLen), iv);
      ctx.seal(nonce, msg.subarray(0, dataAt), msg, ctAt, padded);
    } else {
      this.#cipher(true, alg.cipher, this.out.e).encrypt(iv, msg, ctAt, padded);
      const m = this.#mac(true, alg.integ, this.out.a);
      m.computeInto(msg, 0, msg.length - icv, msg, msg.length - icv);
    }
    return msg;
  }

  /**
   * Protects `payloads` into one message, or into RFC 7383 fragments when the message would
   * exceed `maxLength` octets and fragmentation was negotiated (`fragment` true).
   */
  seal(
    header: HeaderInputV2,
    payloads: readonly PayloadV2[],
    maxLength = Infinity,
    fragment = false,
  ): Uint8Array[] {
    const chain = encodeV2Chain(payloads);
    const whole = HEADER_LENGTH + 4 + chain.bytes.length + overhead(this.alg, chain.bytes.length);
    if (!fragment || whole <= maxLength) {
      return [this.#seal(header, chain.firstType, chain.bytes)];
    }
    // RFC 7383 §2.5.1: each fragment carries as much as fits; 8 octets of SKF header.
    const room = Math.max(64, maxLength - HEADER_LENGTH - 8 - overhead(this.alg, 0) - 16);
    const total = Math.max(1, Math.ceil(chain.bytes.length / room));
    const out: Uint8Array[] = [];
    for (let i = 0; i < total; i++) {
      const part = chain.bytes.subarray(i * room, Math.min(chain.bytes.length, (i + 1) * room));
      out.push(this.#seal(header, chain.firstType, part, { number: i + 1, total }));
    }
    return out;
  }

  /**
   * Verifies and decrypts the SK or SKF payload `enc` (the last payload of `datagram`);
   * returns the inner payload bytes (padding removed) or why they cannot be trusted.
   */
  openRaw(
    datagram: Uint8Array,
    enc: DecodedPayloadV2 & (SkPayloadV2 | SkfPayloadV2),
  ): { ok: true; inner: Uint8Array } | { ok: false; reason: string } {
    const alg = this.alg;
    const { iv: ivLen, icv } = ivIcv(alg);
    const headLen = enc.kind === "skf" ? 8 : 4;
    const dataAt = enc.offset + headLen;
    const parts = splitEncrypted(enc.kind === "skf" ? enc.data : enc.body, ivLen, icv, dataAt);
    if (!parts.ok) return { ok: false, reason: parts.error.message };
    const { iv, ciphertext, icv: tag } = parts.value;
    if (dataAt + ivLen + ciphertext.length + icv !== datagram.length) {
      return { ok: false, reason: "encrypted payload is not at the end of the message" };
    }
    const buf = new Uint8Array(ciphertext.length + icv);
    buf.set(ciphertext);
    buf.set(tag, ciphertext.length);
    if (alg.aead !== undefined) {
      const keyLen = AEAD_KEY_LENGTH[alg.aead];
      const ctx = this.#aead(false, alg.aead, this.inn.e.subarray(0, keyLen));
      const nonce = concat(this.inn.e.subarray(keyLen), iv);
      if (!ctx.open(nonce, datagram.subarray(0, dataAt), buf, 0, ciphertext.length)) {
        return { ok: false, reason: "ICV does not verify" };
      }
    } else {
      const block = CIPHER_BLOCK[alg.cipher];
      const m = this.#mac(false, alg.integ, this.inn.a);
      const expected = m.compute(datagram.subarray(0, datagram.length - icv));
      let d = expected.length === tag.length ? 0 : 1;
      for (let i = 0; i < expected.length && i < tag.length; i++) d |= expected[i]! ^ tag[i]!;
      if (d !== 0) return { ok: false, reason: "ICV does not verify" };
      if (ciphertext.length % block !== 0) {
        return { ok: false, reason: `ciphertext of ${ciphertext.length} octets, not whole blocks` };
      }
      this.#cipher(false, alg.cipher, this.inn.e).decrypt(iv, buf, 0, ciphertext.length);
    }
    const inner = stripPadding(buf.subarray(0, ciphertext.length), dataAt + ivLen);
    if (!inner.ok) return { ok: false, reason: inner.error.message };
    return { ok: true, inner: inner.value };
  }

  /** Verifies, decrypts and decodes an SK message's inner payloads. */
  open(
    datagram: Uint8Array,
    enc: DecodedPayloadV2 & SkPayloadV2,
  ): { ok: true; payloads: readonly DecodedPayloadV2[] } | { ok: false; reason: string } {
    const r = this.openRaw(datagram, enc);
    if (!r.ok) return r;
    return decodeInner(enc.next, r.inner);
  }
}

/**
 * Decodes decrypted inner payload bytes starting with type `first`; a failure names the type
 * of an unknown payload with the critical bit set (`critical`, RFC 7296 §2.5) when that was
 * the reason.
 */
export function decodeInner(
  first: number,
  inner: Uint8Array,
):
  | { ok: true; payloads: readonly DecodedPayloadV2[] }
  | { ok: false; reason: string; critical?: number } {
  const chain = decodeV2Payloads(first, inner, 0);
  if (!chain.ok) {
    const e = chain.error;
    const critical = e.code === "unsupported-critical" ? e.payloadType : undefined;
    return { ok: false, reason: e.message, ...(critical === undefined ? {} : { critical }) };
  }
  if (
    chain.value.payloads.some((p) => p.type === PayloadTypeV2.SK || p.type === PayloadTypeV2.SKF)
  ) {
    return { ok: false, reason: "nested encrypted payload" };
  }
  return { ok: true, payloads: chain.value.payloads };
}
