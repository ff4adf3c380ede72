/**
 * Deciding who signed a bundle. A signature entry counts only when its certificate carries a
 * valid signature by a trusted root key, neither key is revoked, the release key is inside its
 * validity window, and the release key's Ed25519 signature (RFC 8032 §5.1.7) over the exact
 * manifest bytes verifies. Every entry in a bundle must count, and there must be at least one:
 * there is no unsigned mode.
 * @module
 */

import { parseCertBody } from "./cert.ts";
import { verify } from "./ed25519.ts";
import { UpdateError } from "./errors.ts";
import type { PublicKeyInfo } from "./keys.ts";
import type { SignatureEntry } from "./signatures.ts";

/** What a device trusts: its root public keys and the key ids it has revoked. */
export interface TrustAnchors {
  readonly roots: readonly PublicKeyInfo[];
  readonly revoked: ReadonlySet<string>;
}

/** One verified signer. */
export interface Signer {
  readonly releaseName: string;
  readonly releaseKeyId: string;
  readonly rootName: string;
  readonly rootKeyId: string;
  readonly notAfter: string;
}

function checkEntry(
  manifest: Uint8Array,
  e: SignatureEntry,
  trust: TrustAnchors,
  now: Date,
): Signer {
  const roots = trust.roots.filter((r) =>
    r.role === "root" && verify(r.publicKey, e.cert.body, e.cert.rootSignature)
  );
  const root = roots[0];
  if (root === undefined) {
    throw new UpdateError(
      "signature",
      "release key certificate is not signed by a trusted root key",
    );
  }
  const cert = parseCertBody(e.cert.body);
  if (cert.rootKeyId !== root.keyId) {
    throw new UpdateError("signature", "release key certificate names a different root key");
  }
  if (trust.revoked.has(root.keyId)) {
    throw new UpdateError("revoked", `root key '${root.name}' (${root.keyId}) is revoked`);
  }
  if (trust.revoked.has(cert.keyId)) {
    throw new UpdateError("revoked", `release key '${cert.name}' (${cert.keyId}) is revoked`);
  }
  const t = now.getTime();
  if (t < cert.notBefore.getTime()) {
    throw new UpdateError(
      "expired",
      `release key '${cert.name}' is not valid before ${cert.notBefore.toISOString()}`,
    );
  }
  if (t > cert.notAfter.getTime()) {
    throw new UpdateError(
      "expired",
      `release key '${cert.name}' expired at ${cert.notAfter.toISOString()}`,
    );
  }
  if (!verify(cert.publicKey, manifest, e.signature)) {
    throw new UpdateError(
      "signature",
      `signature by release key '${cert.name}' does not verify over the manifest`,
    );
  }
  return {
    releaseName: cert.name,
    releaseKeyId: cert.keyId,
    rootName: root.name,
    rootKeyId: root.keyId,
    notAfter: cert.notAfter.toISOString(),
  };
}

/** Verifies every signature entry over `manifest`; returns the signers or throws UpdateError. */
export function verifySigners(
  manifest: Uint8Array,
  entries: readonly SignatureEntry[],
  trust: TrustAnchors,
  now: Date,
): Signer[] {
  if (entries.length === 0) {
    throw new UpdateError("signature", "bundle is not signed (signatures are mandatory)");
  }
  if (trust.roots.length === 0) throw new UpdateError("key", "no trusted root key installed");
  return entries.map((e) => checkEntry(manifest, e, trust, now));
}
