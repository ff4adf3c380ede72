/**
 * Signature pieces of the scripted IKEv1 initiator (RFC 2409 §5.1, RFC 4754 §7), written from
 * the RFCs with node:crypto and @noble/curves, independent of src/pki: RSA PKCS#1 v1.5 type 1
 * over the raw HASH_I, ECDSA r||s over the raw HASH_I; the responder's SIG_R checked with the
 * public key of the certificate it sent.
 */

import {
  constants,
  type KeyObject,
  privateEncrypt,
  publicDecrypt,
  X509Certificate,
} from "node:crypto";
import { p256 } from "@noble/curves/nist.js";

/** What a signing initiator holds. */
export interface SigOptions {
  /** Our private key. */
  readonly key: KeyObject;
  /** DER certificates to send (ours first), in CERT payloads. */
  readonly certs: readonly Uint8Array[];
  /** Authentication method offered: 3 (RSA) or 9 (ECDSA P-256). */
  readonly method: 3 | 9;
}

function b64u(s: string | undefined): Uint8Array {
  return new Uint8Array(Buffer.from((s ?? "").replace(/-/g, "+").replace(/_/g, "/"), "base64"));
}

/** SIG_I over a raw hash. */
export function signRaw(key: KeyObject, hash: Uint8Array): Uint8Array {
  if (key.asymmetricKeyType === "rsa") {
    return new Uint8Array(privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, hash));
  }
  const d = b64u(key.export({ format: "jwk" }).d);
  return p256.sign(hash, d, { prehash: false, lowS: false });
}

/** Checks SIG_R over a raw hash with the public key of a DER certificate. */
export function verifyRaw(certDer: Uint8Array, hash: Uint8Array, sig: Uint8Array): boolean {
  const pub = new X509Certificate(certDer).publicKey;
  if (pub.asymmetricKeyType === "rsa") {
    const m = publicDecrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, sig);
    return Buffer.compare(m, hash) === 0;
  }
  const j = pub.export({ format: "jwk" });
  const point = new Uint8Array([4, ...b64u(j.x), ...b64u(j.y)]);
  return p256.verify(sig, hash, point, { prehash: false, lowS: false });
}
