/**
 * Retry pacing of a peer that should be up (`start_action = "start"` or a fired trap): the
 * delay before attempt n+1 doubles from 1 s up to a 60 s cap, with "equal jitter" (half the
 * delay fixed, half drawn at random) so that many branches restarting together do not dial
 * their hub in lock step. Pure; randomness injected.
 * @module
 */

/** First retry delay (ms). */
export const BACKOFF_BASE_MS = 1_000;
/** Largest retry delay (ms). */
export const BACKOFF_CAP_MS = 60_000;

/**
 * The wait (ms) after the `failures`-th consecutive failed attempt (1 for the first):
 * d = min(cap, base·2^(failures−1)); the result is d/2 + r·d/2 with r from `random` in [0, 1).
 */
export function backoffDelay(failures: number, random: () => number): number {
  const n = Math.max(1, Math.floor(failures));
  const d = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(n - 1, 30));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(d / 2 + (r * d) / 2);
}
