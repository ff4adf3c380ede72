/**
 * Bookkeeping for input that is dropped before it authenticated (each IKE version keeps its
 * own counters): one counter per reason, a debug line per drop and at most one summary line
 * per interval (a flood must not become a log flood), a limiter for the lines unauthenticated
 * refusals log (one per peer and kind an interval), and token buckets that rate-limit what
 * unauthenticated input may cost us (unprotected notifies, Aggressive Mode's DH before return
 * routability).
 * @module
 */

import type { LogFields, LogLevel } from "../log.ts";

/** Why an unauthenticated datagram was dropped (the keys of `show drops`). */
export type DropReason =
  | "undecodable"
  | "not-ikev1"
  | "malformed"
  | "oversize"
  | "invalid-payload-type"
  | "no-sa"
  | "wrong-address"
  | "no-cookie"
  | "duplicate-message-1"
  | "half-open-per-source"
  | "half-open-total"
  | "aggressive-rate"
  | "no-peer"
  | "unauthenticated"
  | "replay"
  | "unprotected"
  | "message-id"
  | "no-request"
  | "bad-version";

/** Seconds between summary lines. */
export const DROP_SUMMARY_MS = 60_000;

/** Where a drop is logged. */
export interface DropLog {
  /** One line at `level`. */
  event(level: "debug" | "info", peer: string, message: string, fields?: LogFields): void;
}

/** Per-reason drop counters with an interval summary. */
export class DropCounters {
  readonly #total = new Map<DropReason, number>();
  readonly #recent = new Map<DropReason, number>();
  #summaryDue: number | undefined;

  /** Counters whose summary line names `what` ("IKE", "IKEv2"). */
  constructor(readonly what = "IKE") {}

  /** Counts one drop and logs it at debug. */
  drop(
    log: DropLog,
    now: number,
    reason: DropReason,
    who: string,
    message: string,
    fields: LogFields = {},
  ): void {
    this.#total.set(reason, (this.#total.get(reason) ?? 0) + 1);
    this.#recent.set(reason, (this.#recent.get(reason) ?? 0) + 1);
    this.#summaryDue ??= now + DROP_SUMMARY_MS;
    log.event("debug", who, message, { drop: reason, ...fields });
  }

  /** When the next summary line is due (undefined: nothing to report). */
  get summaryDue(): number | undefined {
    return this.#summaryDue;
  }

  /** Logs one summary line of the drops since the last one, if due. */
  summarize(log: DropLog, now: number): void {
    if (this.#summaryDue === undefined || now < this.#summaryDue) return;
    const fields: Record<string, number> = {};
    let n = 0;
    for (const [k, v] of this.#recent) {
      fields[k.replaceAll("-", "_")] = v;
      n += v;
    }
    log.event("info", "-", `${n} unauthenticated ${this.what} datagrams dropped`, fields);
    this.#recent.clear();
    this.#summaryDue = undefined;
  }

  /** Totals since start, by reason. */
  totals(): ReadonlyMap<string, number> {
    return new Map(this.#total);
  }
}

/**
 * One line per key (peer and kind of refusal) an interval at the level asked for, the rest at
 * debug: a refusal an operator needs to see (a proposal mismatch) stays visible, a flood of
 * spoofed ones does not fill the log. At most `maxKeys` keys are remembered.
 */
export class LogLimiter {
  readonly #last = new Map<string, number>();

  /** A limiter allowing one line per key every `intervalMs`. */
  constructor(readonly intervalMs = DROP_SUMMARY_MS, readonly maxKeys = 256) {}

  /** The level to log `key` at, at `now`: `level` if due, else "debug". */
  level(key: string, now: number, level: LogLevel): LogLevel {
    const at = this.#last.get(key);
    if (at !== undefined && now - at < this.intervalMs) return "debug";
    if (at === undefined && this.#last.size >= this.maxKeys) {
      for (const [k, t] of this.#last) if (now - t >= this.intervalMs) this.#last.delete(k);
      if (this.#last.size >= this.maxKeys) return "debug";
    }
    this.#last.set(key, now);
    return level;
  }
}

/** A token bucket: `rate` tokens per second, at most `burst` saved. */
export class TokenBucket {
  #tokens: number;
  #at: number | undefined;

  /** A full bucket. */
  constructor(readonly rate: number, readonly burst: number) {
    this.#tokens = burst;
  }

  /** Takes one token at `now` (ms); false when none is left. */
  take(now: number): boolean {
    if (this.#at !== undefined && now > this.#at) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.rate);
    }
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
