/**
 * Polling with a deadline, for conditions the interop harness cannot be told about (an SA
 * appearing in `swanctl --list-sas`, a log line, a route).
 * @module
 */

/** A condition that did not come true in time; names what was awaited. */
export class WaitTimeout extends Error {
  /** Builds the error for `what` after `ms` milliseconds; `last` describes the last probe. */
  constructor(what: string, ms: number, last?: string) {
    super(`timed out after ${ms} ms waiting for ${what}${last === undefined ? "" : `: ${last}`}`);
    this.name = "WaitTimeout";
  }
}

/** Options for {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this many milliseconds (default 10000). */
  readonly timeoutMs?: number;
  /** Pause between probes (default 200 ms). */
  readonly intervalMs?: number;
  /** What is awaited, for the error message. */
  readonly what?: string;
}

/**
 * Calls `probe` until it returns something other than `undefined` and returns that value;
 * throws {@link WaitTimeout} when the deadline passes. Errors thrown by `probe` propagate.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new WaitTimeout(options.what ?? "condition", timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
