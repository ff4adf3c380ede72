/**
 * Signature algorithms by AlgorithmIdentifier (RFC 5280 §4.1.1.2): RSA PKCS#1 v1.5 and
 * RSASSA-PSS (RFC 4055 §3.1) with SHA-2, ECDSA with SHA-2 (RFC 5758 §3.2, DER signature),
 * Ed25519 (RFC 8410). Used for certificates, CRLs and the RFC 7427 AUTH method.
 * SHA-1 and MD5 signatures are refused.
 * @module
 */

import { constants, type KeyObject, verify } from "node:crypto";
import {
  children,
  concat,
  DerError,
  encodeOid,
  encodeTlv,
  expect,
  integer,
  oid,
  Tag,
  type Tlv,
} from "./der.ts";
import { HASH_BY_OID, Oid } from "./oids.ts";

/** A decoded signature algorithm. */
export interface SigAlg {
  /** Scheme. */
  readonly scheme: "rsa-pkcs1" | "rsa-pss" | "ecdsa" | "ed25519";
  /** node:crypto hash name ("sha256"); "" for Ed25519. */
  readonly hash: string;
  /** PSS salt length. */
  readonly saltLength?: number;
  /** Words for logs ("ecdsa-with-sha256"). */
  readonly name: string;
}

const SIMPLE: Readonly<Record<string, SigAlg>> = {
  [Oid.SHA256_RSA]: { scheme: "rsa-pkcs1", hash: "sha256", name: "sha256WithRSA" },
  [Oid.SHA384_RSA]: { scheme: "rsa-pkcs1", hash: "sha384", name: "sha384WithRSA" },
  [Oid.SHA512_RSA]: { scheme: "rsa-pkcs1", hash: "sha512", name: "sha512WithRSA" },
  [Oid.ECDSA_SHA256]: { scheme: "ecdsa", hash: "sha256", name: "ecdsa-with-sha256" },
  [Oid.ECDSA_SHA384]: { scheme: "ecdsa", hash: "sha384", name: "ecdsa-with-sha384" },
  [Oid.ECDSA_SHA512]: { scheme: "ecdsa", hash: "sha512", name: "ecdsa-with-sha512" },
  [Oid.ED25519]: { scheme: "ed25519", hash: "", name: "ed25519" },
};

/** Decodes an AlgorithmIdentifier; a DerError names what is unsupported. */
export function decodeSigAlg(t: Tlv): SigAlg {
  const [algo, params] = children(expect(t, Tag.SEQUENCE, "AlgorithmIdentifier"));
  const o = oid(expect(algo, Tag.OID, "algorithm"));
  const simple = SIMPLE[o];
  if (simple !== undefined) return simple;
  if (o === Oid.SHA1_RSA || o === Oid.ECDSA_SHA1) {
    throw new DerError("SHA-1 signatures are refused");
  }
  if (o !== Oid.RSA_PSS) throw new DerError(`unsupported signature algorithm ${o}`);
  // RFC 4055 §3.1: RSASSA-PSS-params; the defaults (SHA-1) are refused like SHA-1 above.
  let hash = "sha1";
  let mgfHash = "sha1";
  let salt = 20;
  for (
    const f of params === undefined ? [] : children(expect(params, Tag.SEQUENCE, "PSS params"))
  ) {
    const inner = children(f)[0];
    if (f.tag === 0xa0) hash = hashOf(inner);
    else if (f.tag === 0xa1) {
      const [mgf, mgfParams] = children(expect(inner, Tag.SEQUENCE, "MGF"));
      if (oid(expect(mgf, Tag.OID, "MGF")) !== Oid.MGF1) throw new DerError("PSS: MGF is not MGF1");
      mgfHash = hashOf(mgfParams);
    } else if (f.tag === 0xa2) salt = Number(integer(expect(inner, Tag.INTEGER, "saltLength")));
    else if (f.tag === 0xa3 && integer(expect(inner, Tag.INTEGER, "trailer")) !== 1n) {
      throw new DerError("PSS: trailer field is not 1");
    }
  }
  if (hash === "sha1") throw new DerError("SHA-1 signatures are refused");
  if (mgfHash !== hash) throw new DerError("PSS: MGF1 hash differs from the message hash");
  if (salt < 0 || salt > 512) throw new DerError("PSS: bad salt length");
  return { scheme: "rsa-pss", hash, saltLength: salt, name: `rsassa-pss-${hash}` };
}

function hashOf(t: Tlv | undefined): string {
  const [h] = children(expect(t, Tag.SEQUENCE, "hash AlgorithmIdentifier"));
  const name = HASH_BY_OID[oid(expect(h, Tag.OID, "hash"))];
  if (name === undefined) throw new DerError("PSS: unsupported hash");
  return name;
}

/** Verifies `sig` over `data` with `key` under `alg`; false on any mismatch or bad encoding. */
export function verifyWith(
  alg: SigAlg,
  key: KeyObject,
  data: Uint8Array,
  sig: Uint8Array,
): boolean {
  try {
    switch (alg.scheme) {
      case "rsa-pkcs1":
        return key.asymmetricKeyType === "rsa" && verify(alg.hash, data, key, sig);
      case "rsa-pss":
        return (key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "rsa-pss") &&
          verify(alg.hash, data, {
            key,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: alg.saltLength!,
          }, sig);
      case "ecdsa":
        return key.asymmetricKeyType === "ec" &&
          verify(alg.hash, data, { key, dsaEncoding: "der" }, sig);
      case "ed25519":
        return key.asymmetricKeyType === "ed25519" && verify(null, data, key, sig);
    }
  } catch {
    return false;
  }
}

const HASH_OID: Readonly<Record<string, string>> = {
  sha256: Oid.SHA256,
  sha384: Oid.SHA384,
  sha512: Oid.SHA512,
};
const NULL = new Uint8Array([Tag.NULL, 0]);

/** DER AlgorithmIdentifier of `alg` (RFC 7427 AUTH data, RFC 4055 §3.1 PSS parameters). */
export function encodeSigAlg(alg: SigAlg): Uint8Array {
  const seq = (...p: Uint8Array[]) => encodeTlv(Tag.SEQUENCE, concat(...p));
  const entry = Object.entries(SIMPLE).find(([, a]) =>
    a.scheme === alg.scheme && a.hash === alg.hash
  );
  if (alg.scheme === "rsa-pkcs1" && entry !== undefined) return seq(encodeOid(entry[0]), NULL);
  if ((alg.scheme === "ecdsa" || alg.scheme === "ed25519") && entry !== undefined) {
    return seq(encodeOid(entry[0]));
  }
  if (alg.scheme !== "rsa-pss") throw new Error(`cannot encode ${alg.name}`);
  const hashId = seq(encodeOid(HASH_OID[alg.hash]!), NULL);
  const salt = alg.saltLength!;
  const params = seq(
    encodeTlv(0xa0, hashId),
    encodeTlv(0xa1, seq(encodeOid(Oid.MGF1), hashId)),
    encodeTlv(
      0xa2,
      encodeTlv(Tag.INTEGER, salt < 128 ? new Uint8Array([salt]) : new Uint8Array([0, salt])),
    ),
  );
  return seq(encodeOid(Oid.RSA_PSS), params);
}
