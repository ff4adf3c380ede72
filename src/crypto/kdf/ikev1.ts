/**
 * IKEv1 key derivation (RFC 2409): SKEYID for pre-shared keys and signatures (§5), SKEYID_d/a/e
 * (§5), HASH_I/HASH_R (§5), the encryption key from SKEYID_e with Appendix B expansion, the
 * Phase 1 and Phase 2 / Informational IVs (Appendix B), and Quick Mode KEYMAT with and without
 * PFS, expanded for long keys (§5.5).
 * @module
 */

import { CryptoError, type HashAlg, type PrfAlg } from "../types.ts";
import { HASH_LENGTH } from "../params.ts";
import {
  concat,
  type KdfPrimitives,
  octet,
  requireBytes,
  requireLength,
  u32,
} from "./primitives.ts";

/** SKEYID = prf(pre-shared-key, Ni_b | Nr_b) (RFC 2409 §5, pre-shared keys). */
export function skeyidPsk(
  c: KdfPrimitives,
  prf: PrfAlg,
  psk: Uint8Array,
  ni: Uint8Array,
  nr: Uint8Array,
): Uint8Array {
  requireBytes("pre-shared key", psk);
  requireBytes("Ni_b", ni, 8);
  requireBytes("Nr_b", nr, 8);
  return c.prf(prf, psk, concat(ni, nr));
}

/** SKEYID = prf(Ni_b | Nr_b, g^xy) (RFC 2409 §5, signatures). */
export function skeyidSig(
  c: KdfPrimitives,
  prf: PrfAlg,
  ni: Uint8Array,
  nr: Uint8Array,
  gxy: Uint8Array,
): Uint8Array {
  requireBytes("Ni_b", ni, 8);
  requireBytes("Nr_b", nr, 8);
  requireBytes("g^xy", gxy);
  return c.prf(prf, concat(ni, nr), gxy);
}

/** The three Phase 1 keys of RFC 2409 §5. */
export interface Ikev1Skeyids {
  /** SKEYID_d: derives non-ISAKMP keys (Quick Mode KEYMAT). */
  readonly skeyidD: Uint8Array;
  /** SKEYID_a: authenticates ISAKMP messages (HASH payloads). */
  readonly skeyidA: Uint8Array;
  /** SKEYID_e: source of the ISAKMP encryption key. */
  readonly skeyidE: Uint8Array;
}

/**
 * SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0), SKEYID_a = prf(SKEYID, SKEYID_d | g^xy |
 * CKY-I | CKY-R | 1), SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2) (RFC 2409 §5).
 */
export function deriveSkeyids(
  c: KdfPrimitives,
  prf: PrfAlg,
  skeyid: Uint8Array,
  gxy: Uint8Array,
  ckyI: Uint8Array,
  ckyR: Uint8Array,
): Ikev1Skeyids {
  if (ckyI.length !== 8 || ckyR.length !== 8) throw new CryptoError("cookies must be 8 bytes");
  requireBytes("SKEYID", skeyid);
  requireBytes("g^xy", gxy);
  const tail = (n: number) => concat(gxy, ckyI, ckyR, octet(n));
  const skeyidD = c.prf(prf, skeyid, tail(0));
  const skeyidA = c.prf(prf, skeyid, concat(skeyidD, tail(1)));
  const skeyidE = c.prf(prf, skeyid, concat(skeyidA, tail(2)));
  return { skeyidD, skeyidA, skeyidE };
}

/**
 * HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b) and, with `responder`,
 * HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b) (RFC 2409 §5).
 * `sai` is the initiator's SA payload body, `id` the sender's ID payload body.
 */
export function phase1Hash(
  c: KdfPrimitives,
  prf: PrfAlg,
  skeyid: Uint8Array,
  p: {
    readonly gxi: Uint8Array;
    readonly gxr: Uint8Array;
    readonly ckyI: Uint8Array;
    readonly ckyR: Uint8Array;
    readonly sai: Uint8Array;
    readonly id: Uint8Array;
    readonly responder: boolean;
  },
): Uint8Array {
  const data = p.responder
    ? concat(p.gxr, p.gxi, p.ckyR, p.ckyI, p.sai, p.id)
    : concat(p.gxi, p.gxr, p.ckyI, p.ckyR, p.sai, p.id);
  return c.prf(prf, skeyid, data);
}

/**
 * The ISAKMP encryption key from SKEYID_e (RFC 2409 Appendix B): its first `keyLength` bytes
 * when long enough, else the first bytes of Ka = K1 | K2 | …, K1 = prf(SKEYID_e, 0),
 * Kn = prf(SKEYID_e, Kn-1).
 */
export function encryptionKey(
  c: KdfPrimitives,
  prf: PrfAlg,
  skeyidE: Uint8Array,
  keyLength: number,
): Uint8Array {
  requireLength("key length", keyLength, 256);
  if (skeyidE.length >= keyLength) return skeyidE.slice(0, keyLength);
  const out = new Uint8Array(keyLength);
  let k = c.prf(prf, skeyidE, octet(0));
  let o = 0;
  for (;;) {
    out.set(k.subarray(0, Math.min(k.length, keyLength - o)), o);
    o += k.length;
    if (o >= keyLength) return out;
    k = c.prf(prf, skeyidE, k);
  }
}

function truncatedHash(c: KdfPrimitives, hash: HashAlg, data: Uint8Array, block: number) {
  if (block > HASH_LENGTH[hash] || block < 1) {
    throw new CryptoError(`IV of ${block} bytes is longer than the ${hash} output`);
  }
  return c.hash(hash, data).slice(0, block);
}

/** Phase 1 IV = hash(g^xi | g^xr) truncated to the cipher block size (RFC 2409 Appendix B). */
export function phase1Iv(
  c: KdfPrimitives,
  hash: HashAlg,
  gxi: Uint8Array,
  gxr: Uint8Array,
  blockSize: number,
): Uint8Array {
  requireBytes("g^xi", gxi);
  requireBytes("g^xr", gxr);
  return truncatedHash(c, hash, concat(gxi, gxr), blockSize);
}

/**
 * IV of the first message of a Quick Mode or an Informational exchange: hash(last Phase 1 CBC
 * output block | M-ID) truncated to the block size (RFC 2409 Appendix B); `messageId` is the
 * ISAKMP header's message ID.
 */
export function phase2Iv(
  c: KdfPrimitives,
  hash: HashAlg,
  lastPhase1Block: Uint8Array,
  messageId: number,
  blockSize: number,
): Uint8Array {
  if (lastPhase1Block.length !== blockSize) {
    throw new CryptoError("the last Phase 1 CBC block must be one cipher block");
  }
  return truncatedHash(c, hash, concat(lastPhase1Block, u32(messageId)), blockSize);
}

/** Inputs to {@link quickModeKeymat} for one SA (one direction). */
export interface QuickModeKeymatInput {
  /** Negotiated Phase 1 PRF. */
  readonly prf: PrfAlg;
  /** SKEYID_d of the ISAKMP SA. */
  readonly skeyidD: Uint8Array;
  /** Protocol ID from the Proposal payload (3 = ESP). */
  readonly protocol: number;
  /** SPI chosen by the destination of this SA, as carried in the proposal (4 bytes for ESP). */
  readonly spi: Uint8Array;
  /** Quick Mode Ni_b. */
  readonly ni: Uint8Array;
  /** Quick Mode Nr_b. */
  readonly nr: Uint8Array;
  /** g(qm)^xy with PFS, absent without. */
  readonly gqmxy?: Uint8Array;
  /** Bytes of keying material needed (encryption key then integrity key). */
  readonly length: number;
}

/**
 * Quick Mode KEYMAT = K1 | K2 | …, K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
 * Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b) (RFC 2409 §5.5).
 */
export function quickModeKeymat(c: KdfPrimitives, inp: QuickModeKeymatInput): Uint8Array {
  requireBytes("SKEYID_d", inp.skeyidD);
  requireLength("protocol", inp.protocol, 255);
  requireLength("KEYMAT length", inp.length, 1024);
  requireBytes("SPI", inp.spi);
  requireBytes("Ni_b", inp.ni, 8);
  requireBytes("Nr_b", inp.nr, 8);
  const tail = concat(inp.gqmxy ?? new Uint8Array(0), octet(inp.protocol), inp.spi, inp.ni, inp.nr);
  const out = new Uint8Array(inp.length);
  let k: Uint8Array = new Uint8Array(0);
  for (let o = 0; o < inp.length;) {
    k = c.prf(inp.prf, inp.skeyidD, concat(k, tail));
    out.set(k.subarray(0, Math.min(k.length, inp.length - o)), o);
    o += k.length;
  }
  return out;
}
