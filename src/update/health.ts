/**
 * The health check that decides whether a slot on trial is kept: the crypto self-test passes,
 * the config loads, and every configured peer's tunnel is up within a configured time. The
 * checks are functions the caller provides (the daemon or `bundle health` supplies the real
 * ones, tests supply fakes); {@link recordHealth} turns the result into `mark-good` or a failed
 * trial that the next start falls back from.
 * @module
 */

import { markFailed, markGood } from "./boot.ts";

/** The individual checks. Each returns undefined when it passes, or why it failed. */
export interface HealthChecks {
  readonly selftest: () => Promise<string | undefined>;
  readonly configLoads: () => Promise<string | undefined>;
  /** Names of the configured peers whose tunnels are not up yet (empty: all up). */
  readonly tunnelsDown: () => Promise<readonly string[]>;
}

/** Timing of the tunnel wait. */
export interface HealthTiming {
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly clock?: () => number;
}

/** The outcome: passed, or the first reason it failed. */
export type HealthResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

async function guarded<T>(what: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (err) {
    return { error: `${what}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function isError(v: unknown): v is { error: string } {
  return typeof v === "object" && v !== null && "error" in v;
}

/** Runs the checks in order; the tunnels are polled until up or `timeoutMs` passed. */
export async function runHealthCheck(c: HealthChecks, t: HealthTiming): Promise<HealthResult> {
  const sleep = t.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const clock = t.clock ?? Date.now;
  const self = await guarded("self-test", c.selftest);
  if (isError(self)) return { ok: false, reason: self.error };
  if (self !== undefined) return { ok: false, reason: `self-test: ${self}` };
  const config = await guarded("config", c.configLoads);
  if (isError(config)) return { ok: false, reason: config.error };
  if (config !== undefined) return { ok: false, reason: `config: ${config}` };
  const deadline = clock() + t.timeoutMs;
  for (;;) {
    const down = await guarded("tunnels", c.tunnelsDown);
    if (isError(down)) return { ok: false, reason: down.error };
    if (down.length === 0) return { ok: true };
    if (clock() >= deadline) {
      return {
        ok: false,
        reason: `tunnels not up within ${Math.round(t.timeoutMs / 1000)} s: ${down.join(", ")}`,
      };
    }
    await sleep(Math.min(t.pollMs, Math.max(0, deadline - clock())));
  }
}

/**
 * Records `r` for the running slot: passing marks it good (and raises the floor); failing marks
 * its trial failed so the next start falls back. Returns what was done.
 */
export async function recordHealth(
  stateDir: string,
  r: HealthResult,
): Promise<"marked-good" | "will-fall-back" | "failed-no-trial"> {
  if (r.ok) {
    await markGood(stateDir);
    return "marked-good";
  }
  return await markFailed(stateDir, r.reason) ? "will-fall-back" : "failed-no-trial";
}
