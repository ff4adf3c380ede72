/**
 * IKEv2 key derivation (RFC 7296): prf+ (§2.13), SKEYSEED and the seven SK_* keys (§2.14),
 * SKEYSEED for a rekeyed IKE SA (§2.18) and Child SA KEYMAT (§2.17).
 * @module
 */

import { CryptoError, type PrfAlg } from "../types.ts";
import { PRF_LENGTH } from "../params.ts";
import { concat, type KdfPrimitives, octet, requireBytes, requireLength } from "./primitives.ts";

/** Largest amount of prf+ output: 255 blocks (RFC 7296 §2.13). */
export function prfPlusLimit(prf: PrfAlg): number {
  return 255 * PRF_LENGTH[prf];
}

/**
 * prf+(K, S) = T1 | T2 | …, T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n) (RFC 7296 §2.13),
 * truncated to `length` bytes. Throws {@link CryptoError} beyond 255 blocks.
 */
export function prfPlus(
  c: KdfPrimitives,
  prf: PrfAlg,
  key: Uint8Array,
  seed: Uint8Array,
  length: number,
): Uint8Array {
  requireLength("prf+ length", length, prfPlusLimit(prf));
  const out = new Uint8Array(length);
  let t: Uint8Array = new Uint8Array(0);
  for (let n = 1, o = 0; o < length; n++) {
    t = c.prf(prf, key, concat(t, seed, octet(n)));
    out.set(t.subarray(0, Math.min(t.length, length - o)), o);
    o += t.length;
  }
  return out;
}

/**
 * SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296 §2.14). For AES-XCBC-PRF-128 only the first 64 bits
 * of each nonce form the key (same section).
 */
export function skeyseed(
  c: KdfPrimitives,
  prf: PrfAlg,
  ni: Uint8Array,
  nr: Uint8Array,
  gir: Uint8Array,
): Uint8Array {
  requireBytes("Ni", ni, 8);
  requireBytes("Nr", nr, 8);
  requireBytes("g^ir", gir);
  const key = prf === "aes-xcbc-prf128"
    ? concat(ni.subarray(0, 8), nr.subarray(0, 8))
    : concat(ni, nr);
  return c.prf(prf, key, gir);
}

/** SKEYSEED of a rekeyed IKE SA: prf(SK_d (old), g^ir (new) | Ni | Nr) (RFC 7296 §2.18). */
export function rekeySkeyseed(
  c: KdfPrimitives,
  oldPrf: PrfAlg,
  oldSkD: Uint8Array,
  gir: Uint8Array,
  ni: Uint8Array,
  nr: Uint8Array,
): Uint8Array {
  requireBytes("SK_d", oldSkD);
  requireBytes("g^ir", gir);
  return c.prf(oldPrf, oldSkD, concat(gir, ni, nr));
}

/** The seven IKE SA keys of RFC 7296 §2.14, in prf+ order. */
export interface Ikev2SaKeys {
  /** Key for deriving Child SA keys. */
  readonly skD: Uint8Array;
  /** Integrity key, initiator to responder (empty with an AEAD). */
  readonly skAi: Uint8Array;
  /** Integrity key, responder to initiator. */
  readonly skAr: Uint8Array;
  /** Encryption key (with salt for AEADs, RFC 5282 §7), initiator to responder. */
  readonly skEi: Uint8Array;
  /** Encryption key, responder to initiator. */
  readonly skEr: Uint8Array;
  /** AUTH payload key of the initiator. */
  readonly skPi: Uint8Array;
  /** AUTH payload key of the responder. */
  readonly skPr: Uint8Array;
}

/** Inputs to {@link deriveIkeSaKeys}. */
export interface IkeSaKeyInput {
  /** Negotiated PRF. */
  readonly prf: PrfAlg;
  /** SKEYSEED from {@link skeyseed} or {@link rekeySkeyseed}. */
  readonly skeyseed: Uint8Array;
  /** Initiator nonce (payload body only). */
  readonly ni: Uint8Array;
  /** Responder nonce. */
  readonly nr: Uint8Array;
  /** Initiator SPI, 8 bytes. */
  readonly spiI: Uint8Array;
  /** Responder SPI, 8 bytes. */
  readonly spiR: Uint8Array;
  /** Integrity key length in bytes (0 with an AEAD). */
  readonly integKeyLength: number;
  /** Encryption key length in bytes, including an AEAD salt. */
  readonly encKeyLength: number;
}

/**
 * {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
 * (RFC 7296 §2.14); SK_d, SK_pi and SK_pr have the PRF's preferred key length (§2.13).
 */
export function deriveIkeSaKeys(c: KdfPrimitives, inp: IkeSaKeyInput): Ikev2SaKeys {
  if (inp.spiI.length !== 8 || inp.spiR.length !== 8) {
    throw new CryptoError("IKE SPIs must be 8 bytes");
  }
  requireLength("integrity key length", inp.integKeyLength, 128);
  requireLength("encryption key length", inp.encKeyLength, 128);
  const p = PRF_LENGTH[inp.prf];
  const sizes = [p, inp.integKeyLength, inp.integKeyLength, inp.encKeyLength, inp.encKeyLength];
  const total = sizes.reduce((a, b) => a + b, 0) + 2 * p;
  const seed = concat(inp.ni, inp.nr, inp.spiI, inp.spiR);
  const km = prfPlus(c, inp.prf, inp.skeyseed, seed, total);
  let o = 0;
  const take = (n: number) => km.slice(o, o += n);
  return {
    skD: take(p),
    skAi: take(inp.integKeyLength),
    skAr: take(inp.integKeyLength),
    skEi: take(inp.encKeyLength),
    skEr: take(inp.encKeyLength),
    skPi: take(p),
    skPr: take(p),
  };
}

/** Keys of one Child SA pair, each direction encryption key first, then integrity key. */
export interface ChildKeys {
  /** Encryption key (with salt for AEADs) for initiator → responder. */
  readonly encI: Uint8Array;
  /** Integrity key for initiator → responder (empty with an AEAD). */
  readonly integI: Uint8Array;
  /** Encryption key for responder → initiator. */
  readonly encR: Uint8Array;
  /** Integrity key for responder → initiator. */
  readonly integR: Uint8Array;
}

/**
 * Child SA KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (RFC 7296 §2.17), split as that section
 * says: all initiator→responder keys first, each SA's encryption key before its integrity key.
 */
export function deriveChildKeys(
  c: KdfPrimitives,
  prf: PrfAlg,
  skD: Uint8Array,
  ni: Uint8Array,
  nr: Uint8Array,
  encKeyLength: number,
  integKeyLength: number,
  gir?: Uint8Array,
): ChildKeys {
  requireBytes("SK_d", skD);
  requireLength("encryption key length", encKeyLength, 128);
  requireLength("integrity key length", integKeyLength, 128);
  const seed = gir === undefined ? concat(ni, nr) : concat(gir, ni, nr);
  const km = prfPlus(c, prf, skD, seed, 2 * (encKeyLength + integKeyLength));
  let o = 0;
  const take = (n: number) => km.slice(o, o += n);
  return {
    encI: take(encKeyLength),
    integI: take(integKeyLength),
    encR: take(encKeyLength),
    integR: take(integKeyLength),
  };
}
