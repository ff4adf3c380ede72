/**
 * Building bundles on the release host: {@link createBundle} lays out an unsigned bundle from a
 * manifest and payload bytes, {@link signBundle} adds a release key's signature over the exact
 * manifest bytes (RFC 8032 §5.1.6). An unsigned bundle is refused by every verifier.
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import type { SignedCert } from "./cert.ts";
import { parseCertBody } from "./cert.ts";
import { sign } from "./ed25519.ts";
import { UpdateError } from "./errors.ts";
import {
  type BundleHeader,
  bundleSize,
  decodeHeader,
  encodeHeader,
  HEADER_LENGTH,
} from "./format.ts";
import { toHex } from "./hex.ts";
import type { SecretKeyInfo } from "./keys.ts";
import { encodeManifest, type Manifest, parseManifest, type PayloadEntry } from "./manifest.ts";
import { decodeSignatureBlock, encodeSignatureBlock, type SignatureEntry } from "./signatures.ts";

/** A payload to put in a bundle. */
export interface PayloadInput {
  readonly name: string;
  readonly data: Uint8Array;
  readonly mode: number;
}

/** The fields of a new manifest other than the payload list. */
export type ManifestFields = Omit<Manifest, "payloads">;

/** The parts of a bundle, split without any trust decision (release-host tools only). */
export interface BundleParts {
  readonly header: BundleHeader;
  readonly manifestBytes: Uint8Array;
  readonly signatures: SignatureEntry[];
  readonly payload: Uint8Array;
}

/** Assembles a bundle from its parts. */
export function assembleBundle(
  manifestBytes: Uint8Array,
  signatures: readonly SignatureEntry[],
  payload: Uint8Array,
): Uint8Array {
  const sig = encodeSignatureBlock(signatures);
  const header: BundleHeader = {
    manifestLength: manifestBytes.length,
    signatureLength: sig.length,
    payloadLength: payload.length,
  };
  const out = new Uint8Array(bundleSize(header));
  out.set(encodeHeader(header), 0);
  out.set(manifestBytes, HEADER_LENGTH);
  out.set(sig, HEADER_LENGTH + manifestBytes.length);
  out.set(payload, HEADER_LENGTH + manifestBytes.length + sig.length);
  return out;
}

/** Builds an unsigned bundle; the manifest is checked by the same parser devices use. */
export function createBundle(
  fields: ManifestFields,
  payloads: readonly PayloadInput[],
): Uint8Array {
  const entries: PayloadEntry[] = payloads.map((p) => ({
    name: p.name,
    size: p.data.length,
    sha256: toHex(sha256(p.data)),
    mode: p.mode,
  }));
  const manifestBytes = encodeManifest({ ...fields, payloads: entries });
  parseManifest(manifestBytes);
  const total = payloads.reduce((s, p) => s + p.data.length, 0);
  const payload = new Uint8Array(total);
  let off = 0;
  for (const p of payloads) {
    payload.set(p.data, off);
    off += p.data.length;
  }
  return assembleBundle(manifestBytes, [], payload);
}

/** Splits a bundle into its parts (structure only, no signature is checked). */
export function splitBundle(bytes: Uint8Array): BundleParts {
  const header = decodeHeader(bytes);
  if (bytes.length !== bundleSize(header)) {
    throw new UpdateError(
      "format",
      `bundle is ${bytes.length} bytes, its header says ${bundleSize(header)}`,
    );
  }
  const mEnd = HEADER_LENGTH + header.manifestLength;
  const sEnd = mEnd + header.signatureLength;
  return {
    header,
    manifestBytes: bytes.slice(HEADER_LENGTH, mEnd),
    signatures: decodeSignatureBlock(bytes.subarray(mEnd, sEnd)),
    payload: bytes.subarray(sEnd),
  };
}

/** Adds `key`'s signature (with its certificate `cert`) to a bundle; returns the new bytes. */
export function signBundle(bytes: Uint8Array, key: SecretKeyInfo, cert: SignedCert): Uint8Array {
  if (key.role !== "release") {
    throw new UpdateError(
      "key",
      `key '${key.name}' is not a release key (sign with a release key)`,
    );
  }
  const c = parseCertBody(cert.body);
  if (c.keyId !== key.keyId) {
    throw new UpdateError("key", `certificate is for key '${c.name}', not '${key.name}'`);
  }
  const parts = splitBundle(bytes);
  parseManifest(parts.manifestBytes);
  const signatures = parts.signatures.filter((s) => parseCertBody(s.cert.body).keyId !== key.keyId);
  signatures.push({ cert, signature: sign(key.secretKey, parts.manifestBytes) });
  return assembleBundle(parts.manifestBytes, signatures, parts.payload);
}
