/**
 * Release key certificates: a root key signs the exact bytes of a small JSON body naming the
 * release key, its root and its validity window:
 * `{"type":"branchgate-release-key","name","publicKey","keyId","rootKeyId","notBefore","notAfter"}`.
 * The `type` field keeps certificate bodies and bundle manifests (type "branchgate-bundle")
 * from ever being mistaken for one another.
 *
 * A certificate file (`*.cert`) is JSON: `{"type":"branchgate-release-cert","body":"<the body
 * text>","rootSignature":"<hex>"}`; the body travels as a string so its bytes are preserved.
 * @module
 */

import { isValidPublicKey, PUBLIC_KEY_LENGTH, sign, SIGNATURE_LENGTH } from "./ed25519.ts";
import { UpdateError } from "./errors.ts";
import { fromHex, toHex } from "./hex.ts";
import { isKeyName, keyIdOf, type PublicKeyInfo, type SecretKeyInfo } from "./keys.ts";

/** Largest certificate body accepted (bytes). */
export const MAX_CERT_BODY = 1024;

/** A parsed certificate body. */
export interface ReleaseCert {
  readonly name: string;
  readonly publicKey: Uint8Array;
  readonly keyId: string;
  readonly rootKeyId: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** A certificate as carried in bundles and files: the signed body and the root's signature. */
export interface SignedCert {
  readonly body: Uint8Array;
  readonly rootSignature: Uint8Array;
}

const ISO = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{3})?Z$/;

/** Parses an ISO-8601 UTC timestamp as written by `Date.toISOString`; undefined otherwise. */
export function parseIsoTime(value: unknown): Date | undefined {
  if (typeof value !== "string" || !ISO.test(value)) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Root `root` certifies `release` for [notBefore, notAfter]. */
export function issueCert(
  root: SecretKeyInfo,
  release: PublicKeyInfo,
  notBefore: Date,
  notAfter: Date,
): SignedCert {
  if (root.role !== "root") throw new UpdateError("key", `key '${root.name}' is not a root key`);
  if (release.role !== "release") {
    throw new UpdateError("key", `key '${release.name}' is not a release key`);
  }
  if (!(notBefore.getTime() < notAfter.getTime())) {
    throw new UpdateError("key", "certificate validity window is empty");
  }
  const text = JSON.stringify({
    type: "branchgate-release-key",
    name: release.name,
    publicKey: toHex(release.publicKey),
    keyId: release.keyId,
    rootKeyId: root.keyId,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
  });
  const body = new TextEncoder().encode(text);
  return { body, rootSignature: sign(root.secretKey, body) };
}

/**
 * Parses a certificate body. Call only after the root signature over `body` has verified.
 */
export function parseCertBody(body: Uint8Array): ReleaseCert {
  const bad = (why: string) => new UpdateError("signature", `release key certificate: ${why}`);
  if (body.length > MAX_CERT_BODY) throw bad("too long");
  let j: unknown;
  try {
    j = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw bad("not JSON");
  }
  if (j === null || typeof j !== "object" || Array.isArray(j)) throw bad("not an object");
  const o = j as Record<string, unknown>;
  if (o.type !== "branchgate-release-key") throw bad("wrong type");
  if (!isKeyName(o.name)) throw bad("bad name");
  const publicKey = fromHex(o.publicKey, PUBLIC_KEY_LENGTH);
  if (publicKey === undefined || !isValidPublicKey(publicKey)) throw bad("bad public key");
  const keyId = keyIdOf(publicKey);
  if (o.keyId !== keyId) throw bad("keyId does not match the key");
  if (typeof o.rootKeyId !== "string" || fromHex(o.rootKeyId, 16) === undefined) {
    throw bad("bad rootKeyId");
  }
  const notBefore = parseIsoTime(o.notBefore);
  const notAfter = parseIsoTime(o.notAfter);
  if (notBefore === undefined || notAfter === undefined) throw bad("bad validity window");
  return { name: o.name, publicKey, keyId, rootKeyId: o.rootKeyId, notBefore, notAfter };
}

/** Serializes a certificate file. */
export function encodeCertFile(c: SignedCert): string {
  return JSON.stringify(
    {
      type: "branchgate-release-cert",
      body: new TextDecoder().decode(c.body),
      rootSignature: toHex(c.rootSignature),
    },
    null,
    2,
  ) + "\n";
}

/** Parses a certificate file (structure only; trust is decided when verifying a bundle). */
export function decodeCertFile(text: string, what = "certificate file"): SignedCert {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new UpdateError("key", `${what}: not JSON`);
  }
  const o = (j !== null && typeof j === "object" ? j : {}) as Record<string, unknown>;
  if (o.type !== "branchgate-release-cert" || typeof o.body !== "string") {
    throw new UpdateError("key", `${what}: not a branchgate release certificate`);
  }
  const rootSignature = fromHex(o.rootSignature, SIGNATURE_LENGTH);
  if (rootSignature === undefined) throw new UpdateError("key", `${what}: bad rootSignature`);
  const body = new TextEncoder().encode(o.body);
  if (body.length > MAX_CERT_BODY) throw new UpdateError("key", `${what}: body too long`);
  return { body, rootSignature };
}
