/**
 * IKEv2 Encrypted (SK, RFC 7296 §3.14) and Encrypted Fragment (SKF, RFC 7383 §2.5) payload
 * bodies, and helpers to cut their data at the algorithm-dependent IV/ICV boundaries and to
 * strip the padding after decryption.
 * @module
 */

import { type Decoded, decodeTotal } from "../errors.ts";
import { Reader } from "../reader.ts";
import type { Writer } from "../writer.ts";
import type { SkfPayloadV2, SkPayloadV2 } from "./types.ts";

/** Decodes an SK body (all of it is IV | ciphertext | ICV); `next` is the first inner type. */
export function readSk(r: Reader, next: number): SkPayloadV2 {
  return { kind: "sk", next, data: r.rest() };
}

/** Encodes an SK body. */
export function writeSk(w: Writer, p: SkPayloadV2): void {
  w.bytes(p.data);
}

/**
 * Decodes an SKF body: fragment number and total (RFC 7383 §2.5: 1 ≤ number ≤ total), then
 * IV | ciphertext | ICV. Only fragment 1 may name an inner payload type.
 */
export function readSkf(r: Reader, next: number): SkfPayloadV2 {
  const at = r.offset;
  const fragmentNumber = r.u16("fragment number");
  const totalFragments = r.u16("total fragments");
  if (fragmentNumber === 0 || fragmentNumber > totalFragments) {
    throw r.error(`fragment ${fragmentNumber} of ${totalFragments}`, "bad-syntax", at);
  }
  if (fragmentNumber !== 1 && next !== 0) {
    throw r.error(`fragment ${fragmentNumber} names inner payload ${next}`, "bad-syntax", at - 4);
  }
  return { kind: "skf", next, fragmentNumber, totalFragments, data: r.rest() };
}

/** Encodes an SKF body. */
export function writeSkf(w: Writer, p: SkfPayloadV2): void {
  w.u16(p.fragmentNumber, "fragment number").u16(p.totalFragments, "total fragments");
  w.bytes(p.data);
}

/** The parts of SK/SKF data for the negotiated algorithm. */
export interface EncryptedParts {
  /** Initialization vector. */
  readonly iv: Uint8Array;
  /** Encrypted payloads, padding and pad length. */
  readonly ciphertext: Uint8Array;
  /** Integrity checksum (the AEAD tag for combined modes). */
  readonly icv: Uint8Array;
}

/**
 * Cuts SK/SKF `data` into IV, ciphertext and ICV for an algorithm with `ivLength`-octet IVs
 * and `icvLength`-octet checksums; the ciphertext must hold at least the pad length octet.
 * `offset` is the absolute offset of `data` for errors.
 */
export function splitEncrypted(
  data: Uint8Array,
  ivLength: number,
  icvLength: number,
  offset = 0,
): Decoded<EncryptedParts> {
  return decodeTotal(() => {
    const r = new Reader(data, offset, "SK");
    const iv = r.bytes(ivLength, "IV");
    if (r.remaining < icvLength + 1) {
      throw r.error(
        `${r.remaining} octets cannot hold ciphertext and a ${icvLength}-octet ICV`,
        "truncated",
      );
    }
    const ciphertext = r.bytes(r.remaining - icvLength);
    return { iv, ciphertext, icv: r.rest() };
  });
}

/**
 * The inner payload bytes of a decrypted SK/SKF plaintext: RFC 7296 §3.14 — the last octet is
 * the pad length, preceded by that many padding octets.
 */
export function stripPadding(plaintext: Uint8Array, offset = 0): Decoded<Uint8Array> {
  return decodeTotal(() => {
    const r = new Reader(plaintext, offset, "SK");
    if (plaintext.length === 0) throw r.error("empty plaintext has no pad length", "truncated");
    const pad = plaintext[plaintext.length - 1]!;
    if (pad + 1 > plaintext.length) {
      throw r.error(
        `pad length ${pad} exceeds the plaintext`,
        "bad-length",
        offset + plaintext.length - 1,
      );
    }
    return plaintext.subarray(0, plaintext.length - 1 - pad);
  });
}
