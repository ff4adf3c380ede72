/**
 * Certificate revocation lists (RFC 5280 §5.1): issuer, thisUpdate/nextUpdate and the revoked
 * serial numbers. The signature is checked against the issuing CA by path.ts.
 * @module
 */

import { createHash } from "node:crypto";
import { bitStringBytes, children, DerError, expect, integer, parseOne, Tag, time } from "./der.ts";
import { decodeName, type DistinguishedName } from "./name.ts";
import { decodeSigAlg, type SigAlg } from "./sigalg.ts";
import { colonHex, serialHex } from "./x509.ts";

/** A parsed CRL. */
export interface Crl {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly issuer: DistinguishedName;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** Revoked serials (hex as serialHex prints) → revocation date. */
  readonly revoked: ReadonlyMap<string, Date>;
  readonly sigAlg: SigAlg;
  readonly signature: Uint8Array;
  readonly fingerprint: string;
}

/** Most revoked entries one CRL may list (bounds memory on a hostile file). */
export const MAX_CRL_ENTRIES = 200_000;

/** Parses a DER CRL; DerError says what is wrong (never another exception). */
export function parseCrl(der: Uint8Array): Crl {
  try {
    return parse(der);
  } catch (e) {
    if (e instanceof DerError) throw e;
    throw new DerError("malformed CRL structure");
  }
}

function parse(der: Uint8Array): Crl {
  const [tbsT, algT, sigT] = children(expect(parseOne(der), Tag.SEQUENCE, "CertificateList"));
  const f = children(expect(tbsT, Tag.SEQUENCE, "TBSCertList"));
  let i = 0;
  if (f[0]?.tag === Tag.INTEGER) i++; // version (v2)
  const inner = expect(f[i++], Tag.SEQUENCE, "signature");
  const sigAlg = decodeSigAlg(expect(algT, Tag.SEQUENCE, "signatureAlgorithm"));
  if (inner.raw.length !== algT!.raw.length || !inner.raw.every((x, j) => x === algT!.raw[j])) {
    throw new DerError("CRL signature algorithm differs inside and outside (RFC 5280 §5.1.1.2)");
  }
  const issuer = decodeName(expect(f[i++], Tag.SEQUENCE, "issuer"));
  const thisUpdate = time(f[i++]!);
  let nextUpdate: Date | undefined;
  if (f[i]?.tag === Tag.UTC_TIME || f[i]?.tag === Tag.GENERALIZED_TIME) nextUpdate = time(f[i++]!);
  const revoked = new Map<string, Date>();
  if (f[i]?.tag === Tag.SEQUENCE) {
    const entries = children(f[i++]!);
    if (entries.length > MAX_CRL_ENTRIES) throw new DerError("CRL has too many entries");
    for (const e of entries) {
      const [serial, date] = children(expect(e, Tag.SEQUENCE, "revokedCertificate"));
      revoked.set(serialHex(integer(expect(serial, Tag.INTEGER, "userCertificate"))), time(date!));
    }
  }
  const base = {
    der,
    tbs: tbsT!.raw,
    issuer,
    thisUpdate,
    revoked,
    sigAlg,
    signature: bitStringBytes(sigT!),
    fingerprint: colonHex(createHash("sha256").update(der).digest()),
  };
  return nextUpdate === undefined ? base : { ...base, nextUpdate };
}
