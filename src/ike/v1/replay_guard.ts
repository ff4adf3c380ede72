/**
 * Replay bookkeeping for protected IKEv1 exchanges that carry no sequence number: an
 * Informational exchange is one message under a fresh message ID (RFC 2408 §3.1, §4.8), so a
 * second authenticated message under an ID already seen is a replay. RFC 3947 §4 and
 * RFC 7296 §2.23: endpoints (and liveness) follow only messages that authenticated and are
 * not replays. The set is bounded; the oldest IDs are forgotten first.
 * @module
 */

/** How many inbound message IDs one IKE SA remembers. */
export const MAX_REMEMBERED_MESSAGE_IDS = 512;

/**
 * Records `messageId` in `seen`; true when it was not there (a fresh exchange), false for a
 * replay. Call only for messages whose HASH verified, so forgeries cannot fill the set.
 */
export function firstSighting(seen: Set<number>, messageId: number): boolean {
  if (seen.has(messageId)) return false;
  seen.add(messageId);
  if (seen.size > MAX_REMEMBERED_MESSAGE_IDS) {
    const oldest = seen.values().next();
    if (oldest.done !== true) seen.delete(oldest.value);
  }
  return true;
}

/** What hashing needs (the crypto registry satisfies it). */
interface Hasher {
  /** A digest of `data`. */
  hash(alg: "sha256", data: Uint8Array): Uint8Array;
}

/**
 * What a Phase 1 SA keeps of the last request to recognise a retransmission: its SHA-256, not
 * a copy (half-open SAs are many and their requests come from anyone).
 */
export function requestDigest(c: Hasher, datagram: Uint8Array): Uint8Array {
  return c.hash("sha256", datagram);
}

/** Whether `datagram` is the request whose {@link requestDigest} is `stored`. */
export function isRetransmit(
  c: Hasher,
  stored: Uint8Array | undefined,
  datagram: Uint8Array,
): boolean {
  if (stored === undefined) return false;
  const d = requestDigest(c, datagram);
  return d.length === stored.length && d.every((b, i) => b === stored[i]);
}
