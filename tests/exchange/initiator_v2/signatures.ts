/**
 * Signature authentication for the scripted IKEv2 initiator (RFC 7296 §2.15, RFC 4754,
 * RFC 7427), from node:crypto and independent of src/pki: AUTH method 1 (RSA PKCS#1 v1.5 with
 * SHA-1), 9 (ECDSA P-256 SHA-256, r||s) and 14 (RFC 7427: ecdsa-with-SHA256 with a DER
 * signature, or sha256WithRSAEncryption); the responder's AUTH checked with the key of the
 * certificate it sent.
 */

import { constants, type KeyObject, sign, verify, X509Certificate } from "node:crypto";
import { cat, hex, unhex } from "./wire.ts";

/** What a signing initiator holds. */
export interface V2Sig {
  /** Our private key. */
  readonly key: KeyObject;
  /** DER certificates to send (ours first). */
  readonly certs: readonly Uint8Array[];
  /** AUTH method to use. */
  readonly method: 1 | 9 | 14;
  /** Announce SIGNATURE_HASH_ALGORITHMS (SHA-256/384/512) in IKE_SA_INIT. */
  readonly hashNotify?: boolean;
}

/** RFC 7427 Appendix A AlgorithmIdentifiers. */
const AI = {
  ecdsaSha256: "300a06082a8648ce3d040302",
  ecdsaSha384: "300a06082a8648ce3d040303",
  ecdsaSha512: "300a06082a8648ce3d040304",
  sha256Rsa: "300d06092a864886f70d01010b0500",
} as const;

/** Our AUTH data over `signed` with method `s.method`. */
export function sigAuth(s: V2Sig, signed: Uint8Array): Uint8Array {
  switch (s.method) {
    case 1:
      return new Uint8Array(sign("sha1", signed, s.key));
    case 9:
      return new Uint8Array(sign("sha256", signed, { key: s.key, dsaEncoding: "ieee-p1363" }));
    case 14: {
      const ec = s.key.asymmetricKeyType === "ec";
      const ai = unhex(ec ? AI.ecdsaSha256 : AI.sha256Rsa);
      const sig = ec
        ? sign("sha256", signed, { key: s.key, dsaEncoding: "der" })
        : sign("sha256", signed, s.key);
      return cat(Uint8Array.of(ai.length), ai, new Uint8Array(sig));
    }
  }
}

/** Checks the responder's AUTH (method, data) over `signed` with its certificate's key. */
export function checkSigAuth(
  cert: Uint8Array,
  method: number,
  data: Uint8Array,
  signed: Uint8Array,
): boolean {
  const key = new X509Certificate(cert).publicKey;
  if (method === 9) return verify("sha256", signed, { key, dsaEncoding: "ieee-p1363" }, data);
  if (method === 1) return verify("sha1", signed, key, data);
  if (method !== 14) return false;
  const n = data[0]!;
  const ai = hex(data.subarray(1, 1 + n));
  const sig = data.subarray(1 + n);
  const ecHash = ai === AI.ecdsaSha256
    ? "sha256"
    : ai === AI.ecdsaSha384
    ? "sha384"
    : ai === AI.ecdsaSha512
    ? "sha512"
    : undefined;
  if (ecHash !== undefined) return verify(ecHash, signed, { key, dsaEncoding: "der" }, sig);
  // RSASSA-PSS with SHA-256 and a 32-octet salt (RFC 7427 Appendix A.4.2 parameters).
  return verify("sha256", signed, {
    key,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: 32,
  }, sig);
}
