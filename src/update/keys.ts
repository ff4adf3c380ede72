/**
 * Key files for update signing. A root key (kept offline) certifies release keys; release keys
 * sign bundles. Files are JSON with strict lowercase hex:
 * - secret key (mode 0600): `{"type":"branchgate-secret-key","role","name","keyId","secretKey"}`
 * - public key: `{"type":"branchgate-public-key","role","name","keyId","publicKey"}`
 *
 * A key's id is the first 16 bytes of SHA-256 of its public key, in hex; revocation lists and
 * certificates name keys by it.
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { isValidPublicKey, PUBLIC_KEY_LENGTH, publicKeyOf, SECRET_KEY_LENGTH } from "./ed25519.ts";
import { UpdateError } from "./errors.ts";
import { fromHex, toHex } from "./hex.ts";

/** What a key is for. */
export type KeyRole = "root" | "release";

/** A public key with its name and id. */
export interface PublicKeyInfo {
  readonly role: KeyRole;
  readonly name: string;
  readonly keyId: string;
  readonly publicKey: Uint8Array;
}

/** A secret key with its public half. `secretKey` must never be logged or printed. */
export interface SecretKeyInfo extends PublicKeyInfo {
  readonly secretKey: Uint8Array;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** True when `name` is an acceptable key name (1-64 of letters, digits, `._@-`). */
export function isKeyName(name: unknown): name is string {
  return typeof name === "string" && NAME.test(name);
}

/** The id of a public key: hex of the first 16 bytes of its SHA-256. */
export function keyIdOf(publicKey: Uint8Array): string {
  return toHex(sha256(publicKey).subarray(0, 16));
}

/** Builds a secret key record from a seed (validating role and name). */
export function secretKeyInfo(role: KeyRole, name: string, secretKey: Uint8Array): SecretKeyInfo {
  if (!isKeyName(name)) throw new UpdateError("key", `bad key name ${JSON.stringify(name)}`);
  const publicKey = publicKeyOf(secretKey);
  if (publicKey === undefined) throw new UpdateError("key", "secret key has the wrong length");
  return { role, name, keyId: keyIdOf(publicKey), publicKey, secretKey };
}

/** The public half of a key record. */
export function publicPart(k: PublicKeyInfo): PublicKeyInfo {
  return { role: k.role, name: k.name, keyId: k.keyId, publicKey: k.publicKey };
}

/** Serializes a secret key file. */
export function encodeSecretKeyFile(k: SecretKeyInfo): string {
  return JSON.stringify(
    {
      type: "branchgate-secret-key",
      role: k.role,
      name: k.name,
      keyId: k.keyId,
      secretKey: toHex(k.secretKey),
    },
    null,
    2,
  ) + "\n";
}

/** Serializes a public key file. */
export function encodePublicKeyFile(k: PublicKeyInfo): string {
  return JSON.stringify(
    {
      type: "branchgate-public-key",
      role: k.role,
      name: k.name,
      keyId: k.keyId,
      publicKey: toHex(k.publicKey),
    },
    null,
    2,
  ) + "\n";
}

function parseObject(text: string, what: string): Record<string, unknown> {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new UpdateError("key", `${what}: not JSON`);
  }
  if (j === null || typeof j !== "object" || Array.isArray(j)) {
    throw new UpdateError("key", `${what}: not a JSON object`);
  }
  return j as Record<string, unknown>;
}

function role(value: unknown, what: string): KeyRole {
  if (value === "root" || value === "release") return value;
  throw new UpdateError("key", `${what}: role must be "root" or "release"`);
}

/** Parses a secret key file; the id and the public key are recomputed from the secret. */
export function decodeSecretKeyFile(text: string, what = "secret key file"): SecretKeyInfo {
  const j = parseObject(text, what);
  if (j.type !== "branchgate-secret-key") {
    throw new UpdateError("key", `${what}: not a branchgate secret key`);
  }
  const secret = fromHex(j.secretKey, SECRET_KEY_LENGTH);
  if (secret === undefined) {
    throw new UpdateError("key", `${what}: secretKey is not ${SECRET_KEY_LENGTH} bytes of hex`);
  }
  if (!isKeyName(j.name)) throw new UpdateError("key", `${what}: bad name`);
  const k = secretKeyInfo(role(j.role, what), j.name, secret);
  if (j.keyId !== k.keyId) throw new UpdateError("key", `${what}: keyId does not match the key`);
  return k;
}

/** Parses a public key file (checking the id and that the key is a usable point). */
export function decodePublicKeyFile(text: string, what = "public key file"): PublicKeyInfo {
  const j = parseObject(text, what);
  if (j.type !== "branchgate-public-key") {
    throw new UpdateError("key", `${what}: not a branchgate public key`);
  }
  const publicKey = fromHex(j.publicKey, PUBLIC_KEY_LENGTH);
  if (publicKey === undefined || !isValidPublicKey(publicKey)) {
    throw new UpdateError("key", `${what}: publicKey is not a valid Ed25519 public key`);
  }
  if (!isKeyName(j.name)) throw new UpdateError("key", `${what}: bad name`);
  const keyId = keyIdOf(publicKey);
  if (j.keyId !== keyId) throw new UpdateError("key", `${what}: keyId does not match the key`);
  return { role: role(j.role, what), name: j.name, keyId, publicKey };
}
