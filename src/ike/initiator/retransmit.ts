/**
 * Retransmission of our requests as initiator (RFC 7296 §2.1; the same rule serves IKEv1,
 * RFC 2408 §5 leaves the timers to the implementation): the request is sent again after 1 s,
 * then 2, 4 and 8 s after each previous one, and the exchange is abandoned 16 s after the last
 * (31 s after the first send); the
 * connection manager then backs off (backoff.ts). Pure bookkeeping on an injected clock.
 * @module
 */

/** Wait before the first retransmission (ms). */
export const RETRANSMIT_FIRST_MS = 1_000;
/** Retransmissions before giving up. */
export const RETRANSMIT_TRIES = 4;

/** One outstanding request of ours. */
export interface PendingRequest {
  /** The exact bytes to send again (RFC 7296 §2.1: retransmissions are identical). */
  readonly datagram: Uint8Array;
  /** Retransmissions done so far. */
  tries: number;
  /** When to act next (ms): retransmit, or give up once {@link RETRANSMIT_TRIES} are done. */
  due: number;
}

/** A new pending request sent at `now`. */
export function pending(datagram: Uint8Array, now: number): PendingRequest {
  return { datagram, tries: 0, due: now + RETRANSMIT_FIRST_MS };
}

/**
 * What to do with `p` at `now`: "wait" before its deadline, "resend" (the deadline moves to
 * twice the previous wait), or "giveUp" once the last wait passed without an answer.
 */
export function retransmitStep(
  p: Pick<PendingRequest, "tries" | "due">,
  now: number,
): "wait" | "resend" | "giveUp" {
  if (now < p.due) return "wait";
  if (p.tries >= RETRANSMIT_TRIES) return "giveUp";
  p.tries++;
  p.due = now + RETRANSMIT_FIRST_MS * 2 ** p.tries;
  return "resend";
}

/** Total time from the first send to giving up (ms): 1+2+4+8+16 = 31 s with the defaults. */
export const RETRANSMIT_GIVE_UP_MS = RETRANSMIT_FIRST_MS * (2 ** (RETRANSMIT_TRIES + 1) - 1);
