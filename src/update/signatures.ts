/**
 * The signature block of a bundle (binary, big-endian):
 *
 * ```
 * u8 count (0 … MAX_SIGNATURES)
 * count × { u16 body length, certificate body, 64-byte root signature over the body,
 *           64-byte Ed25519 signature (RFC 8032 §5.1.6) by the release key over the manifest }
 * ```
 * @module
 */

import { MAX_CERT_BODY, type SignedCert } from "./cert.ts";
import { SIGNATURE_LENGTH } from "./ed25519.ts";
import { UpdateError } from "./errors.ts";

/** Most signatures one bundle may carry. */
export const MAX_SIGNATURES = 8;

/** One signature: the signer's certificate and its signature over the manifest bytes. */
export interface SignatureEntry {
  readonly cert: SignedCert;
  readonly signature: Uint8Array;
}

/** Encodes a signature block. */
export function encodeSignatureBlock(entries: readonly SignatureEntry[]): Uint8Array {
  if (entries.length > MAX_SIGNATURES) {
    throw new UpdateError("format", `at most ${MAX_SIGNATURES} signatures`);
  }
  let size = 1;
  for (const e of entries) size += 2 + e.cert.body.length + 2 * SIGNATURE_LENGTH;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out[0] = entries.length;
  let off = 1;
  for (const e of entries) {
    v.setUint16(off, e.cert.body.length);
    out.set(e.cert.body, off + 2);
    off += 2 + e.cert.body.length;
    out.set(e.cert.rootSignature, off);
    out.set(e.signature, off + SIGNATURE_LENGTH);
    off += 2 * SIGNATURE_LENGTH;
  }
  return out;
}

/** Decodes a signature block; every byte must belong to an entry. */
export function decodeSignatureBlock(bytes: Uint8Array): SignatureEntry[] {
  const bad = (why: string) => new UpdateError("format", `signature block: ${why}`);
  if (bytes.length === 0) return [];
  const count = bytes[0] as number;
  if (count > MAX_SIGNATURES) throw bad(`${count} signatures, at most ${MAX_SIGNATURES}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: SignatureEntry[] = [];
  let off = 1;
  for (let i = 0; i < count; i++) {
    if (off + 2 > bytes.length) throw bad("truncated");
    const len = v.getUint16(off);
    if (len === 0 || len > MAX_CERT_BODY) throw bad(`certificate length ${len}`);
    const end = off + 2 + len + 2 * SIGNATURE_LENGTH;
    if (end > bytes.length) throw bad("truncated");
    const body = bytes.slice(off + 2, off + 2 + len);
    const rootSignature = bytes.slice(off + 2 + len, off + 2 + len + SIGNATURE_LENGTH);
    const signature = bytes.slice(off + 2 + len + SIGNATURE_LENGTH, end);
    entries.push({ cert: { body, rootSignature }, signature });
    off = end;
  }
  if (off !== bytes.length) throw bad(`${bytes.length - off} bytes after the last signature`);
  return entries;
}
