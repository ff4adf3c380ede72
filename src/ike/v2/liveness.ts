/**
 * When an IKEv2 peer counts as dead (RFC 7296 §2.4): a request of ours (liveness check,
 * Delete, rekey) is retransmitted until the peer's configured `dpd_timeout` has passed since
 * the first send, then the IKE SA and its children are deleted. A floor keeps a few
 * retransmissions in that window; `config check` warns about shorter timeouts.
 * @module
 */

import { RETRANSMIT_GIVE_UP_MS } from "../initiator/retransmit.ts";

/** The shortest wait for an answer before the peer is declared dead (ms). */
export const MIN_DEAD_PEER_MS = 5_000;

/** How long a request of ours may stay unanswered (ms) for a peer with `dpd_timeout` (s). */
export function deadPeerAfterMs(peer: { readonly dpd_timeout: number }): number {
  // Without a configured timeout (0), as long as an initiator's attempt.
  if (peer.dpd_timeout <= 0) return RETRANSMIT_GIVE_UP_MS;
  return Math.max(peer.dpd_timeout * 1000, MIN_DEAD_PEER_MS);
}
