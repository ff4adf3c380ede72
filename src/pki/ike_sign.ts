/**
 * IKE signature encodings over node:crypto (RSA) and @noble/curves (ECDSA over a given hash):
 * - IKEv1 (RFC 2409 §5.1): SIG_I/SIG_R sign HASH_I/HASH_R itself: RSA with PKCS#1 v1.5 type 1
 *   padding and no DigestInfo; ECDSA (RFC 4754 §7) r||s of the raw hash value, as strongSwan's
 *   pubkey_v1 authenticator interoperates.
 * - IKEv2 (RFC 7296 §2.15, §3.8): AUTH method 1 (RSA PKCS#1 v1.5 with SHA-1 DigestInfo),
 *   9/10/11 (RFC 4754: ECDSA P-256/SHA-256, P-384/SHA-384, P-521/SHA-512, r||s) and 14
 *   (RFC 7427: ASN.1 length, AlgorithmIdentifier, then the signature: RSASSA-PSS or ECDSA DER).
 * @module
 */

import {
  constants,
  type KeyObject,
  privateEncrypt,
  publicDecrypt,
  sign,
  verify,
} from "node:crypto";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import type { PrivateKey } from "./keys.ts";
import { decodeSigAlg, encodeSigAlg, type SigAlg, verifyWith } from "./sigalg.ts";
import { parseOne } from "./der.ts";

const NOBLE = { "P-256": p256, "P-384": p384, "P-521": p521 } as const;
type Curve = keyof typeof NOBLE;

function b64u(s: string | undefined): Uint8Array {
  const b = atob((s ?? "").replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

/** ECDSA r||s of a raw hash (no further hashing). */
function ecdsaRaw(key: PrivateKey, hash: Uint8Array): Uint8Array {
  const d = b64u(key.key.export({ format: "jwk" }).d);
  try {
    return NOBLE[key.curve as Curve].sign(hash, d, { prehash: false, lowS: false });
  } finally {
    d.fill(0);
  }
}

function ecPublicRaw(pub: KeyObject): Uint8Array {
  const j = pub.export({ format: "jwk" });
  const x = b64u(j.x), y = b64u(j.y);
  const out = new Uint8Array(1 + x.length + y.length);
  out[0] = 4;
  out.set(x, 1);
  out.set(y, 1 + x.length);
  return out;
}

function curveOf(pub: KeyObject): Curve | undefined {
  const c = pub.asymmetricKeyDetails?.namedCurve;
  return c === "prime256v1" || c === "P-256"
    ? "P-256"
    : c === "secp384r1" || c === "P-384"
    ? "P-384"
    : c === "secp521r1" || c === "P-521"
    ? "P-521"
    : undefined;
}

/** IKEv1 signature (SIG payload data) over HASH_I or HASH_R. */
export function v1Sign(key: PrivateKey, hash: Uint8Array): Uint8Array {
  if (key.keyType === "rsa") {
    return new Uint8Array(
      privateEncrypt({ key: key.key, padding: constants.RSA_PKCS1_PADDING }, hash),
    );
  }
  return ecdsaRaw(key, hash);
}

/** Checks an IKEv1 SIG payload over HASH_I or HASH_R with the peer's certified key. */
export function v1Verify(pub: KeyObject, hash: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (pub.asymmetricKeyType === "rsa") {
      const m = publicDecrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, sig);
      return m.length === hash.length && m.every((x, i) => x === hash[i]);
    }
    const c = curveOf(pub);
    if (pub.asymmetricKeyType !== "ec" || c === undefined) return false;
    return NOBLE[c].verify(sig, hash, ecPublicRaw(pub), { prehash: false, lowS: false });
  } catch {
    return false;
  }
}

/** IKEv2 AUTH methods (RFC 7296 §3.8, RFC 4754, RFC 7427). */
export const AuthMethodV2 = {
  RSA_SIG: 1,
  ECDSA_256: 9,
  ECDSA_384: 10,
  ECDSA_521: 11,
  DIGITAL_SIGNATURE: 14,
} as const;

/** SIGNATURE_HASH_ALGORITHMS values (RFC 7427 §7, IANA "Hash Algorithms"). */
export const SigHash = { SHA1: 1, SHA256: 2, SHA384: 3, SHA512: 4 } as const;

const HASH_NAME: Readonly<Record<number, string>> = { 2: "sha256", 3: "sha384", 4: "sha512" };
const ECDSA_METHOD: Readonly<Record<string, [number, string]>> = {
  "P-256": [AuthMethodV2.ECDSA_256, "sha256"],
  "P-384": [AuthMethodV2.ECDSA_384, "sha384"],
  "P-521": [AuthMethodV2.ECDSA_521, "sha512"],
};

/**
 * Signs IKEv2 octets (RFC 7296 §2.15). With the peer's SIGNATURE_HASH_ALGORITHMS known,
 * method 14 with the strongest shared SHA-2 hash (RSASSA-PSS, salt = hash length, for RSA);
 * otherwise 1 (RSA) or 9/10/11 (ECDSA).
 */
export function v2Sign(
  key: PrivateKey,
  octets: Uint8Array,
  peerHashes: readonly number[] | undefined,
): { method: number; data: Uint8Array } {
  const shared = [SigHash.SHA512, SigHash.SHA384, SigHash.SHA256].filter((h) =>
    peerHashes?.includes(h)
  );
  if (peerHashes !== undefined && shared.length > 0) {
    let hash = HASH_NAME[shared[0]!]!;
    if (key.keyType === "ec") {
      // The curve's own hash when the peer takes it (RFC 5656-style pairing), else the best.
      const own = ECDSA_METHOD[key.curve!]![1];
      if (shared.some((h) => HASH_NAME[h] === own)) hash = own;
    }
    const alg: SigAlg = key.keyType === "rsa"
      ? { scheme: "rsa-pss", hash, saltLength: hashLength(hash), name: `rsassa-pss-${hash}` }
      : { scheme: "ecdsa", hash, name: `ecdsa-with-${hash}` };
    const sig = key.keyType === "rsa"
      ? sign(hash, octets, {
        key: key.key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: hashLength(hash),
      })
      : sign(hash, octets, { key: key.key, dsaEncoding: "der" });
    const ai = encodeSigAlg(alg);
    const data = new Uint8Array(1 + ai.length + sig.length);
    data[0] = ai.length;
    data.set(ai, 1);
    data.set(sig, 1 + ai.length);
    return { method: AuthMethodV2.DIGITAL_SIGNATURE, data };
  }
  if (key.keyType === "rsa") {
    return { method: AuthMethodV2.RSA_SIG, data: new Uint8Array(sign("sha1", octets, key.key)) };
  }
  const [method, hash] = ECDSA_METHOD[key.curve!]!;
  return {
    method,
    data: new Uint8Array(sign(hash, octets, { key: key.key, dsaEncoding: "ieee-p1363" })),
  };
}

function hashLength(h: string): number {
  return h === "sha256" ? 32 : h === "sha384" ? 48 : 64;
}

/**
 * Checks IKEv2 AUTH data of `method` over `octets` with the peer's certified key; a string
 * says why it failed.
 */
export function v2Verify(
  pub: KeyObject,
  method: number,
  octets: Uint8Array,
  data: Uint8Array,
): true | string {
  try {
    switch (method) {
      case AuthMethodV2.RSA_SIG:
        if (pub.asymmetricKeyType !== "rsa") return "AUTH method 1 with a non-RSA certificate";
        return verify("sha1", octets, pub, data) || "RSA signature does not verify";
      case AuthMethodV2.ECDSA_256:
      case AuthMethodV2.ECDSA_384:
      case AuthMethodV2.ECDSA_521: {
        const want = Object.entries(ECDSA_METHOD).find(([, m]) => m[0] === method)!;
        if (curveOf(pub) !== want[0]) return `AUTH method ${method} needs a ${want[0]} key`;
        return verify(want[1][1], octets, { key: pub, dsaEncoding: "ieee-p1363" }, data) ||
          "ECDSA signature does not verify";
      }
      case AuthMethodV2.DIGITAL_SIGNATURE: {
        // RFC 7427 §3: one octet length, AlgorithmIdentifier, signature.
        const n = data[0];
        if (n === undefined || 1 + n > data.length) return "malformed RFC 7427 AUTH data";
        let alg: SigAlg;
        try {
          alg = decodeSigAlg(parseOne(data.subarray(1, 1 + n)));
        } catch (e) {
          return `RFC 7427 AUTH: ${e instanceof Error ? e.message : "bad AlgorithmIdentifier"}`;
        }
        return verifyWith(alg, pub, octets, data.subarray(1 + n)) ||
          `${alg.name} signature does not verify`;
      }
      default:
        return `AUTH method ${method} is not a signature method`;
    }
  } catch {
    return "signature does not verify";
  }
}
