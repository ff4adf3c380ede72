/**
 * The bundle file layout. One file:
 *
 * ```
 * header (32 bytes, big-endian)
 *   0  magic "BGBUNDLE"         8
 *   8  format version = 1       u16
 *  10  header length = 32       u16
 *  12  manifest length          u32   1 … MAX_MANIFEST
 *  16  signature block length   u32   0 … MAX_SIGNATURE_BLOCK
 *  20  reserved = 0             u32
 *  24  payload length           u64   sum of the manifest's payload sizes
 * manifest (JSON, UTF-8; the exact bytes the signatures cover)
 * signature block (see signatures.ts)
 * payloads, concatenated in manifest order
 * ```
 *
 * The header is not signed, so every field is either a constant or checked against the signed
 * manifest and the file size: any change to it is refused.
 * @module
 */

import { UpdateError } from "./errors.ts";

/** The magic bytes at offset 0. */
export const MAGIC = new TextEncoder().encode("BGBUNDLE");
/** The format version this code reads and writes. */
export const FORMAT_VERSION = 1;
/** Header length in bytes. */
export const HEADER_LENGTH = 32;
/** Largest header length any format version may declare. */
export const MAX_HEADER_LENGTH = 256;
/** Largest manifest accepted (bytes). */
export const MAX_MANIFEST = 64 * 1024;
/** Largest signature block accepted (bytes). */
export const MAX_SIGNATURE_BLOCK = 16 * 1024;
/** Largest total payload accepted by the format (bytes); installs may cap lower. */
export const MAX_PAYLOAD = 2 ** 32;

/** The decoded header. */
export interface BundleHeader {
  readonly manifestLength: number;
  readonly signatureLength: number;
  readonly payloadLength: number;
}

/** Total file size described by `h`. */
export function bundleSize(h: BundleHeader): number {
  return HEADER_LENGTH + h.manifestLength + h.signatureLength + h.payloadLength;
}

/** Encodes a header. */
export function encodeHeader(h: BundleHeader): Uint8Array {
  const out = new Uint8Array(HEADER_LENGTH);
  const v = new DataView(out.buffer);
  out.set(MAGIC, 0);
  v.setUint16(8, FORMAT_VERSION);
  v.setUint16(10, HEADER_LENGTH);
  v.setUint32(12, h.manifestLength);
  v.setUint32(16, h.signatureLength);
  v.setUint32(20, 0);
  v.setBigUint64(24, BigInt(h.payloadLength));
  return out;
}

/** Decodes and checks the fixed header (the first {@link HEADER_LENGTH} bytes of `bytes`). */
export function decodeHeader(bytes: Uint8Array): BundleHeader {
  if (bytes.length < HEADER_LENGTH) {
    throw new UpdateError("format", `truncated: ${bytes.length} bytes, shorter than the header`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw new UpdateError("format", "not a branchgate bundle (bad magic)");
    }
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, HEADER_LENGTH);
  const version = v.getUint16(8);
  if (version !== FORMAT_VERSION) {
    throw new UpdateError("format", `unsupported bundle format version ${version}`);
  }
  const headerLength = v.getUint16(10);
  if (headerLength > MAX_HEADER_LENGTH) {
    throw new UpdateError(
      "format",
      `header length ${headerLength} exceeds the limit of ${MAX_HEADER_LENGTH}`,
    );
  }
  if (headerLength !== HEADER_LENGTH) {
    throw new UpdateError("format", `header length ${headerLength}, format 1 has ${HEADER_LENGTH}`);
  }
  const manifestLength = v.getUint32(12);
  if (manifestLength === 0 || manifestLength > MAX_MANIFEST) {
    throw new UpdateError(
      "format",
      `manifest length ${manifestLength} is outside 1…${MAX_MANIFEST} bytes`,
    );
  }
  const signatureLength = v.getUint32(16);
  if (signatureLength > MAX_SIGNATURE_BLOCK) {
    throw new UpdateError(
      "format",
      `signature block length ${signatureLength} exceeds the limit of ${MAX_SIGNATURE_BLOCK}`,
    );
  }
  if (v.getUint32(20) !== 0) throw new UpdateError("format", "reserved header field is not zero");
  const payload = v.getBigUint64(24);
  if (payload > BigInt(MAX_PAYLOAD)) {
    throw new UpdateError(
      "format",
      `payload length ${payload} exceeds the limit of ${MAX_PAYLOAD}`,
    );
  }
  return { manifestLength, signatureLength, payloadLength: Number(payload) };
}
