/**
 * Diffie-Hellman group definitions shared by every backend: MODP primes (RFC 2409 §6.2,
 * RFC 3526), ECP sizes (RFC 5903 §7), Curve25519/448 (RFC 8031 §2), and which groups are legacy.
 * @module
 */

import modp from "./modp.json" with { type: "json" };
import type { DhGroupId } from "../types.ts";

/** What kind of arithmetic a group uses. */
export type GroupKind = "modp" | "ecp" | "montgomery";

/** Static facts about one group. */
export interface GroupInfo {
  /** IANA number. */
  readonly id: DhGroupId;
  /** Arithmetic family. */
  readonly kind: GroupKind;
  /** Public value length in bytes (RFC 7296 §3.4, RFC 5903 §7, RFC 8031 §2). */
  readonly publicLength: number;
  /** Shared secret length in bytes (MODP: prime length; ECP: x only, RFC 5903 §7). */
  readonly sharedLength: number;
  /** Private value length in bytes that `generate()` draws. */
  readonly privateLength: number;
}

/**
 * Groups that exist for old IKEv1 peers but are never enabled unless configured explicitly:
 * group 2 (1024-bit MODP) is too weak for default use (RFC 8247 §2.4, RFC 4109 §3).
 */
export const LEGACY_GROUPS: ReadonlySet<DhGroupId> = new Set<DhGroupId>([2]);

/** Every supported group, in IANA order. */
export const ALL_GROUPS: readonly DhGroupId[] = [2, 5, 14, 15, 16, 18, 19, 20, 21, 31, 32];

// Private exponent sizes for MODP: twice the upper strength estimate of RFC 3526 §8
// (group 2 uses the group 5 figure), rounded up to bytes. Not shorter: §8 asks for twice the
// group's strength (its table: 220-320 bits for group 14), and strongSwan draws longer ones
// (the prime's length by default, `dh_exponent_ansi_x9_42 = yes`; 384 bits for group 14
// when that option is off), so a shorter exponent would trade strength for CPU.
const MODP_EXP_BYTES: Partial<Record<DhGroupId, number>> = {
  2: 32,
  5: 32,
  14: 40,
  15: 53,
  16: 60,
  18: 78,
};

/** The MODP prime of a group as a bigint, or undefined for non-MODP groups. */
export function modpPrime(id: DhGroupId): bigint | undefined {
  const hex = (modp.primes as Record<string, string>)[String(id)];
  return hex === undefined ? undefined : BigInt("0x" + hex);
}

/** The MODP generator (2 for every group here). */
export const MODP_GENERATOR = BigInt(modp.generator);

/** Static facts about `id`. */
export function groupInfo(id: DhGroupId): GroupInfo {
  switch (id) {
    case 19:
      return { id, kind: "ecp", publicLength: 64, sharedLength: 32, privateLength: 32 };
    case 20:
      return { id, kind: "ecp", publicLength: 96, sharedLength: 48, privateLength: 48 };
    case 21:
      return { id, kind: "ecp", publicLength: 132, sharedLength: 66, privateLength: 66 };
    case 31:
      return { id, kind: "montgomery", publicLength: 32, sharedLength: 32, privateLength: 32 };
    case 32:
      return { id, kind: "montgomery", publicLength: 56, sharedLength: 56, privateLength: 56 };
    default: {
      const bytes = (modp.primes as Record<string, string>)[String(id)]!.length / 2;
      return {
        id,
        kind: "modp",
        publicLength: bytes,
        sharedLength: bytes,
        privateLength: MODP_EXP_BYTES[id]!,
      };
    }
  }
}

/** True when `id` is a group number branchgate knows (for config and KE parsing). */
export function isDhGroupId(id: number): id is DhGroupId {
  return (ALL_GROUPS as readonly number[]).includes(id);
}

/** Big-endian bytes to bigint. */
export function bytesToBigint(b: Uint8Array): bigint {
  let x = 0n;
  for (const v of b) x = (x << 8n) | BigInt(v);
  return x;
}

/** bigint to big-endian bytes, left-padded to `len` (throws RangeError when it does not fit). */
export function bigintToBytes(x: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let v = x;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new RangeError("value does not fit");
  return out;
}

/** True when every byte is zero (RFC 8031 §2 / RFC 7748 §6 shared-secret check). */
export function allZero(b: Uint8Array): boolean {
  let acc = 0;
  for (const v of b) acc |= v;
  return acc === 0;
}
