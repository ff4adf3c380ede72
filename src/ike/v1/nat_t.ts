/**
 * NAT detection for IKEv1 (RFC 3947 §3.2): NAT-D = HASH(CKY-I | CKY-R | IP | Port) with the
 * negotiated hash. The sender's first NAT-D names the destination it sent to, the others its
 * own addresses. A peer with `encap = yes` sends a fake hash so that we see a NAT and
 * encapsulate (what strongSwan does). Pure.
 * @module
 */

import type { KdfPrimitives } from "../../crypto/kdf/primitives.ts";
import type { HashAlg } from "../../crypto/types.ts";
import type { Endpoint } from "../actions.ts";
import { natDHash } from "../nat.ts";

export { natDHash } from "../nat.ts";

/** Outcome of comparing the peer's NAT-D payloads with what we see. */
export interface NatDetection {
  /** The peer's source address/port is not among its hashes: it is behind a NAT. */
  readonly peerBehindNat: boolean;
  /** Its first hash is not our address/port: we are behind a NAT. */
  readonly selfBehindNat: boolean;
}

const same = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Compares received NAT-D hashes (first: us as the peer addressed us; rest: the peer) with
 * our view of `local` and `remote`. Undefined when fewer than two hashes were sent.
 */
export function detectNat(
  c: KdfPrimitives,
  hash: HashAlg,
  ckyI: Uint8Array,
  ckyR: Uint8Array,
  hashes: readonly Uint8Array[],
  local: Endpoint,
  remote: Endpoint,
): NatDetection | undefined {
  const [first, ...rest] = hashes;
  if (first === undefined || rest.length === 0) return undefined;
  const ours = natDHash(c, hash, ckyI, ckyR, local);
  const theirs = natDHash(c, hash, ckyI, ckyR, remote);
  return {
    selfBehindNat: ours === undefined || !same(first, ours),
    peerBehindNat: theirs === undefined || !rest.some((h) => same(h, theirs)),
  };
}
