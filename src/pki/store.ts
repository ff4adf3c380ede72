/**
 * A peer's certificate credentials from the config keys `cert`, `key`, `ca` and `crl`: our
 * certificate and private key (which must match), the intermediates we send with it, trust
 * anchors (self-signed `ca` entries), configured intermediates (the other `ca` entries) and
 * CRLs. Loading refuses with one clear line; `show pki` rows and expiry warnings come from here.
 * @module
 */

import { type Crl, parseCrl } from "./crl.ts";
import { DerError } from "./der.ts";
import { KeyError, loadPrivateKey, type PrivateKey } from "./keys.ts";
import { formatName, sameName } from "./name.ts";
import { derObjects } from "./pem.ts";
import { selfSigned, type TrustStore } from "./path.ts";
import { type Certificate, parseCertificate } from "./x509.ts";

/** The config keys this module reads (a `[[peer]]` with `auth = "pubkey"`). */
export interface PubkeyPeerConfig {
  readonly name: string;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly ca?: readonly string[] | undefined;
  readonly crl?: readonly string[] | undefined;
}

/** Everything a peer authenticates with. */
export interface PeerCredentials {
  readonly cert: Certificate;
  readonly certFile: string;
  readonly key: PrivateKey;
  /** Intermediates between our certificate and an anchor, issuer order (sent with ours). */
  readonly chain: readonly Certificate[];
  readonly trust: TrustStore;
  /** Every loaded certificate with its file, for `show pki`. */
  readonly loaded: readonly {
    readonly file: string;
    readonly role: string;
    readonly cert: Certificate;
  }[];
}

/** A credential file that cannot be used. */
export class PkiError extends Error {
  /** `message`: one line naming the file and the reason. */
  constructor(message: string) {
    super(message);
    this.name = "PkiError";
  }
}

function read(path: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    throw new PkiError(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Every certificate in a PEM or DER file. */
export function loadCertificates(path: string): Certificate[] {
  try {
    return derObjects(read(path), "CERTIFICATE").map(parseCertificate);
  } catch (e) {
    if (e instanceof DerError) {
      throw new PkiError(`${path}: not a usable certificate: ${e.message}`);
    }
    throw e;
  }
}

/** Every CRL in a PEM or DER file. */
export function loadCrls(path: string): Crl[] {
  try {
    return derObjects(read(path), "X509 CRL").map(parseCrl);
  } catch (e) {
    if (e instanceof DerError) throw new PkiError(`${path}: not a usable CRL: ${e.message}`);
    throw e;
  }
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Loads a pubkey peer's credentials; PkiError says which file and why. */
export function loadPeerCredentials(peer: PubkeyPeerConfig): PeerCredentials {
  if (peer.cert === undefined || peer.key === undefined) {
    throw new PkiError(`peer ${peer.name}: auth pubkey needs cert and key`);
  }
  const loaded: { file: string; role: string; cert: Certificate }[] = [];
  const [cert, ...extra] = loadCertificates(peer.cert);
  if (cert === undefined) throw new PkiError(`${peer.cert}: no certificate`);
  loaded.push({ file: peer.cert, role: "local", cert });
  let key: PrivateKey;
  try {
    key = loadPrivateKey(peer.key);
  } catch (e) {
    if (e instanceof KeyError) throw new PkiError(e.message);
    throw e;
  }
  if (!sameKey(key.spki, cert.spki)) {
    throw new PkiError(`${peer.key}: private key does not match ${peer.cert}`);
  }
  const anchors: Certificate[] = [];
  const intermediates: Certificate[] = [...extra];
  for (const c of extra) loaded.push({ file: peer.cert, role: "intermediate", cert: c });
  for (const file of peer.ca ?? []) {
    for (const c of loadCertificates(file)) {
      const anchor = selfSigned(c);
      (anchor ? anchors : intermediates).push(c);
      loaded.push({ file, role: anchor ? "anchor" : "intermediate", cert: c });
    }
  }
  if (anchors.length === 0) {
    throw new PkiError(`peer ${peer.name}: no self-signed trust anchor among ca files`);
  }
  const crls = (peer.crl ?? []).flatMap(loadCrls);
  // Our chain: follow issuers through the intermediates up to (not including) an anchor.
  const chain: Certificate[] = [];
  let tip = cert;
  while (!anchors.some((a) => sameName(tip.issuer, a.subject)) && chain.length < 7) {
    const next = intermediates.find((c) => sameName(tip.issuer, c.subject) && !chain.includes(c));
    if (next === undefined) break;
    chain.push(next);
    tip = next;
  }
  return { cert, certFile: peer.cert, key, chain, trust: { anchors, intermediates, crls }, loaded };
}

/** Whole days from `now` until `cert` expires (negative once expired). */
export function daysLeft(cert: Certificate, now: Date): number {
  return Math.floor((cert.notAfter.getTime() - now.getTime()) / 86_400_000);
}

/** Days before expiry at which the daemon warns. */
export const EXPIRY_WARNING_DAYS = 30;

/** Warning lines for loaded certificates that expire within 30 days (or have expired). */
export function expiryWarnings(creds: PeerCredentials, now: Date): string[] {
  return creds.loaded.flatMap(({ file, cert }) => {
    const d = daysLeft(cert, now);
    if (d > EXPIRY_WARNING_DAYS) return [];
    return [
      d < 0
        ? `certificate "${
          formatName(cert.subject)
        }" (${file}) expired on ${cert.notAfter.toISOString()}`
        : `certificate "${
          formatName(cert.subject)
        }" (${file}) expires in ${d} days (${cert.notAfter.toISOString()})`,
    ];
  });
}
