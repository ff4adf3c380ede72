/**
 * Diffie-Hellman group keywords of strongSwan's proposal syntax and their IANA numbers
 * (RFC 2409 §6, RFC 3526, RFC 5903, RFC 8031), shared by the IKE and ESP proposal matchers.
 * @module
 */

import { ALL_GROUPS } from "../../crypto/dh/groups.ts";

/** strongSwan group keyword → group number. */
export const GROUP_KEYWORDS: Readonly<Record<string, number>> = {
  modp768: 1,
  modp1024: 2,
  modp1536: 5,
  modp2048: 14,
  modp3072: 15,
  modp4096: 16,
  modp8192: 18,
  ecp256: 19,
  ecp384: 20,
  ecp521: 21,
  curve25519: 31,
  curve448: 32,
};

/** Groups the crypto layer implements (a configured keyword outside it cannot be used). */
export const SUPPORTED_GROUPS: ReadonlySet<number> = new Set<number>(ALL_GROUPS);

/** The keyword of a group number ("modp2048"), or "group#N". */
export function groupName(id: number): string {
  return Object.keys(GROUP_KEYWORDS).find((k) => GROUP_KEYWORDS[k] === id) ?? `group#${id}`;
}
