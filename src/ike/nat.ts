/**
 * The NAT detection hash both versions use: HASH(SPIi | SPIr | IP | Port) — IKEv1 NAT-D with
 * the negotiated hash and the cookies (RFC 3947 §3.2), IKEv2 NAT_DETECTION_*_IP with SHA-1
 * and the IKE SPIs (RFC 7296 §2.23). Pure.
 * @module
 */

import type { KdfPrimitives } from "../crypto/kdf/primitives.ts";
import { concat } from "../crypto/kdf/primitives.ts";
import type { HashAlg } from "../crypto/types.ts";
import { parseIp } from "../net/addr.ts";
import type { Endpoint } from "./actions.ts";

/** NAT detection hash of one endpoint, or undefined when the address text is not an IP address. */
export function natDHash(
  c: KdfPrimitives,
  hash: HashAlg,
  ckyI: Uint8Array,
  ckyR: Uint8Array,
  ep: Endpoint,
): Uint8Array | undefined {
  const ip = parseIp(ep.address);
  if (ip === undefined) return undefined;
  const port = Uint8Array.of(ep.port >> 8, ep.port & 0xff);
  return c.hash(hash, concat(ckyI, ckyR, ip, port));
}
