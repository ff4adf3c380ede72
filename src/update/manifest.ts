/**
 * The bundle manifest: UTF-8 JSON, the exact bytes the signatures cover.
 *
 * ```json
 * {"type":"branchgate-bundle","product":"branchgate","version":"1.2.0","board":"generic",
 *  "arch":"aarch64","created":"2026-11-23T08:00:00.000Z","minVersion":"1.0.0",
 *  "revokeKeys":["<keyId>"],"payloads":[{"name":"branchgate.js","size":123,"sha256":"…",
 *  "mode":420}]}
 * ```
 *
 * `minVersion` raises the device's anti-rollback floor when the bundle is installed;
 * `revokeKeys` extends the device's revocation list. Payload names are relative paths inside a
 * slot: segments of `[A-Za-z0-9._+-]`, no `.`/`..`, no leading `/`, unique (case-sensitively
 * and after lowercasing, so no two names collide on a case-insensitive file system), and not
 * under `.bundle/` (where the installer keeps the manifest in each slot).
 * @module
 */

import { parseIsoTime } from "./cert.ts";
import { UpdateError } from "./errors.ts";
import { fromHex } from "./hex.ts";
import { parseSemVer } from "./semver.ts";

/** Most payloads in one bundle. */
export const MAX_PAYLOADS = 256;
/** Longest payload name (bytes). */
export const MAX_NAME = 200;
/** Most revoked key ids one manifest may add. */
export const MAX_REVOKE = 64;

/** One payload entry. */
export interface PayloadEntry {
  /** Relative path inside the slot. */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** Lowercase hex SHA-256 of the content. */
  readonly sha256: string;
  /** File mode (0o644 or 0o755). */
  readonly mode: number;
}

/** A parsed manifest. */
export interface Manifest {
  readonly product: string;
  readonly version: string;
  readonly board: string;
  readonly arch: string;
  readonly created: string;
  readonly minVersion: string;
  readonly revokeKeys: readonly string[];
  readonly payloads: readonly PayloadEntry[];
}

/** The slot directory the installer keeps the manifest in; no payload may use it. */
export const RESERVED = ".bundle";

const WORD = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SEGMENT = /^[A-Za-z0-9._+-]+$/;
const MODES = new Set([0o644, 0o755]);

/** Why `name` is not an acceptable payload name, or undefined when it is. */
export function payloadNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string" || name.length === 0) return "empty name";
  if (name.length > MAX_NAME) return "name too long";
  if (name.startsWith("/")) return `absolute path ${JSON.stringify(name)}`;
  if (name === RESERVED || name.startsWith(`${RESERVED}/`)) return `reserved name ${RESERVED}`;
  for (const seg of name.split("/")) {
    if (seg === "." || seg === "..") return `path traversal in ${JSON.stringify(name)}`;
    if (!SEGMENT.test(seg)) return `bad characters or empty segment in ${JSON.stringify(name)}`;
  }
  return undefined;
}

/** Serializes a manifest (the bytes to sign). */
export function encodeManifest(m: Manifest): Uint8Array {
  const j = {
    type: "branchgate-bundle",
    product: m.product,
    version: m.version,
    board: m.board,
    arch: m.arch,
    created: m.created,
    minVersion: m.minVersion,
    revokeKeys: m.revokeKeys,
    payloads: m.payloads.map((p) => ({
      name: p.name,
      size: p.size,
      sha256: p.sha256,
      mode: p.mode,
    })),
  };
  return new TextEncoder().encode(JSON.stringify(j, null, 1));
}

/** Parses manifest bytes; call only once a trusted signature over `bytes` has verified. */
export function parseManifest(bytes: Uint8Array): Manifest {
  const bad = (why: string) => new UpdateError("manifest", `manifest: ${why}`);
  let j: unknown;
  try {
    j = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw bad("not UTF-8 JSON");
  }
  if (j === null || typeof j !== "object" || Array.isArray(j)) throw bad("not an object");
  const o = j as Record<string, unknown>;
  if (o.type !== "branchgate-bundle") throw bad("type is not branchgate-bundle");
  for (const k of ["product", "board", "arch"] as const) {
    if (typeof o[k] !== "string" || !WORD.test(o[k])) throw bad(`bad ${k}`);
  }
  if (parseSemVer(o.version) === undefined) throw bad("version is not semver");
  if (parseSemVer(o.minVersion) === undefined) throw bad("minVersion is not semver");
  if (parseIsoTime(o.created) === undefined) throw bad("created is not an ISO UTC time");
  const revoke = o.revokeKeys;
  if (!Array.isArray(revoke) || revoke.length > MAX_REVOKE) throw bad("bad revokeKeys");
  for (const id of revoke) if (fromHex(id, 16) === undefined) throw bad("bad key id in revokeKeys");
  const list = o.payloads;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_PAYLOADS) {
    throw bad(`payloads must list 1…${MAX_PAYLOADS} entries`);
  }
  const seen = new Set<string>();
  const payloads: PayloadEntry[] = [];
  for (const p of list as unknown[]) {
    if (p === null || typeof p !== "object") throw bad("payload entry is not an object");
    const e = p as Record<string, unknown>;
    const problem = payloadNameProblem(e.name);
    if (problem !== undefined) throw bad(`payload name: ${problem}`);
    const name = e.name as string;
    const key = name.toLowerCase();
    if (seen.has(key)) throw bad(`duplicate payload name ${JSON.stringify(name)}`);
    seen.add(key);
    if (typeof e.size !== "number" || !Number.isSafeInteger(e.size) || e.size < 0) {
      throw bad(`payload ${name}: bad size`);
    }
    if (typeof e.sha256 !== "string" || fromHex(e.sha256, 32) === undefined) {
      throw bad(`payload ${name}: bad sha256`);
    }
    if (typeof e.mode !== "number" || !MODES.has(e.mode)) throw bad(`payload ${name}: bad mode`);
    payloads.push({ name, size: e.size, sha256: e.sha256, mode: e.mode });
  }
  // A file and a directory of the same name cannot both exist in a slot.
  for (const n of seen) {
    const parts = n.split("/");
    for (let i = 1; i < parts.length; i++) {
      if (seen.has(parts.slice(0, i).join("/"))) throw bad(`payload ${n} is below another payload`);
    }
  }
  return {
    product: o.product as string,
    version: o.version as string,
    board: o.board as string,
    arch: o.arch as string,
    created: o.created as string,
    minVersion: o.minVersion as string,
    revokeKeys: revoke as string[],
    payloads,
  };
}

/** Sum of the payload sizes. */
export function payloadTotal(m: Manifest): number {
  return m.payloads.reduce((s, p) => s + p.size, 0);
}
