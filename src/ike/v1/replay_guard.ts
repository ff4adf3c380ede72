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
