/**
 * Certification path building and validation (RFC 5280 §6, the parts an IKE gateway needs):
 * from the peer's end-entity certificate through configured or received intermediates to a
 * configured trust anchor. Checked on every certificate: the issuer's signature, validity at
 * the injected `now`, RSA keys of 2048 bits or more, no unprocessed critical extension, and
 * revocation when a CRL of its issuer is loaded (none loaded: not checked, as strongSwan's
 * default). CA certificates need basicConstraints cA (and keyCertSign when keyUsage is present)
 * and their pathLenConstraint is honoured. The end entity needs digitalSignature or
 * nonRepudiation when keyUsage is present (RFC 4945 §5.1.3.2), and when extendedKeyUsage is
 * present one of ipsecIKE, anyExtendedKeyUsage, serverAuth or clientAuth (RFC 4945 §5.1.3.12,
 * relaxed for the serverAuth/clientAuth certificates operators' CAs issue).
 * @module
 */

import type { Crl } from "./crl.ts";
import { formatName, sameName } from "./name.ts";
import { Oid } from "./oids.ts";
import { verifyWith } from "./sigalg.ts";
import { type Certificate, describeCert } from "./x509.ts";

/** What a path is validated against. */
export interface TrustStore {
  /** Trust anchors (configured `ca` entries that are self-signed). */
  readonly anchors: readonly Certificate[];
  /** Configured intermediates (`ca` entries that are not self-signed). */
  readonly intermediates: readonly Certificate[];
  /** Loaded CRLs. */
  readonly crls: readonly Crl[];
}

/** A validation result: the path (end entity first, anchor last) or the refusal. */
export type PathResult =
  | { readonly ok: true; readonly path: readonly Certificate[] }
  | { readonly ok: false; readonly cert: Certificate; readonly reason: string };

/** Longest path tried (end entity + intermediates + anchor). */
export const MAX_PATH = 8;

/** Minimum RSA modulus accepted anywhere in a path. */
export const MIN_RSA_BITS = 2048;

const IKE_EKUS = [Oid.EKU_IPSEC_IKE, Oid.ANY_EKU, Oid.EKU_SERVER_AUTH, Oid.EKU_CLIENT_AUTH];

/** Whether a certificate is self-issued and self-signed (an anchor candidate). */
export function selfSigned(c: Certificate): boolean {
  return sameName(c.issuer, c.subject) && verifyWith(c.sigAlg, c.publicKey, c.tbs, c.signature);
}

function issuedBy(child: Certificate, issuer: Certificate): boolean {
  if (!sameName(child.issuer, issuer.subject)) return false;
  if (
    child.authorityKeyId !== undefined && issuer.subjectKeyId !== undefined &&
    child.authorityKeyId !== issuer.subjectKeyId
  ) return false;
  return true;
}

/** Checks on one certificate alone; a reason string when refused. */
function ownProblem(c: Certificate, now: Date, asCa: boolean): string | undefined {
  if (now < c.notBefore) return `not valid before ${c.notBefore.toISOString()}`;
  if (now > c.notAfter) return `expired on ${c.notAfter.toISOString()}`;
  if (c.keyType === "rsa" && c.keyBits < MIN_RSA_BITS) {
    return `RSA key of ${c.keyBits} bits (at least ${MIN_RSA_BITS} needed)`;
  }
  if (c.unknownCritical.length > 0) {
    return `unprocessed critical extension ${c.unknownCritical.join(", ")}`;
  }
  if (asCa) {
    if (c.version >= 3 && c.basicConstraints?.ca !== true) {
      return "used as a CA but basicConstraints has no cA flag";
    }
    if (c.keyUsage !== undefined && !c.keyUsage.has("keyCertSign")) {
      return "used as a CA but keyUsage lacks keyCertSign";
    }
  } else {
    if (
      c.keyUsage !== undefined && !c.keyUsage.has("digitalSignature") &&
      !c.keyUsage.has("nonRepudiation")
    ) return "keyUsage allows neither digitalSignature nor nonRepudiation";
    if (c.extKeyUsage !== undefined && !c.extKeyUsage.some((e) => IKE_EKUS.includes(e as never))) {
      return "extendedKeyUsage does not allow IKE";
    }
  }
  return undefined;
}

function revocation(c: Certificate, issuer: Certificate, crls: readonly Crl[], now: Date) {
  for (const crl of crls) {
    if (!sameName(crl.issuer, issuer.subject)) continue;
    if (!verifyWith(crl.sigAlg, issuer.publicKey, crl.tbs, crl.signature)) continue;
    if (crl.thisUpdate > now) continue; // not yet issued at `now`
    const when = crl.revoked.get(c.serial);
    // Listed means revoked (RFC 5280 §5.3.2: the date is informational).
    if (when !== undefined) return `revoked on ${when.toISOString()}`;
  }
  return undefined;
}

/**
 * Validates `leaf` at `now`: tries each issuer candidate (anchors first) and returns the first
 * complete path, or the refusal that got furthest (naming the certificate at fault).
 */
export function validatePath(
  leaf: Certificate,
  received: readonly Certificate[],
  store: TrustStore,
  now: Date,
): PathResult {
  const own = ownProblem(leaf, now, false);
  if (own !== undefined) return { ok: false, cert: leaf, reason: own };
  const pool = [...store.intermediates, ...received];
  let best: { cert: Certificate; reason: string; depth: number } = {
    cert: leaf,
    reason: `no path to a trusted CA (issuer "${formatName(leaf.issuer)}" unknown)`,
    depth: -1,
  };
  const walk = (chain: Certificate[]): Certificate[] | undefined => {
    const tip = chain[chain.length - 1]!;
    const below = chain.length - 1; // intermediates under a CA placed next
    const fail = (cert: Certificate, reason: string) => {
      if (chain.length > best.depth) best = { cert, reason, depth: chain.length };
    };
    // Why `issuer` cannot certify the tip here, or undefined when it can.
    const link = (issuer: Certificate): [Certificate, string] | undefined => {
      if (!verifyWith(tip.sigAlg, issuer.publicKey, tip.tbs, tip.signature)) {
        return [tip, `signature by "${formatName(issuer.subject)}" does not verify`];
      }
      const p = ownProblem(issuer, now, true) ?? pathLenProblem(issuer, below);
      if (p !== undefined) return [issuer, p];
      const r = revocation(tip, issuer, store.crls, now);
      return r === undefined ? undefined : [tip, r];
    };
    for (const anchor of store.anchors) {
      if (!issuedBy(tip, anchor)) continue;
      const bad = link(anchor);
      if (bad === undefined) return [...chain, anchor];
      fail(...bad);
    }
    if (chain.length >= MAX_PATH - 1) return undefined;
    for (const ca of pool) {
      if (chain.some((c) => c.fingerprint === ca.fingerprint) || !issuedBy(tip, ca)) continue;
      const bad = link(ca);
      if (bad !== undefined) {
        fail(...bad);
        continue;
      }
      const done = walk([...chain, ca]);
      if (done !== undefined) return done;
    }
    return undefined;
  };
  const path = walk([leaf]);
  if (path !== undefined) return { ok: true, path };
  return { ok: false, cert: best.cert, reason: best.reason };
}

function pathLenProblem(ca: Certificate, below: number): string | undefined {
  const n = ca.basicConstraints?.pathLen;
  return n !== undefined && below > n
    ? `pathLenConstraint ${n} exceeded (${below} intermediates below)`
    : undefined;
}

/** One log line for a refusal: the certificate and the reason. */
export function refusalLine(r: { cert: Certificate; reason: string }): string {
  return `certificate ${describeCert(r.cert)} refused: ${r.reason}`;
}
