/**
 * The connection manager: which configured peers this gateway dials, and when (sans-I/O; the
 * clock and randomness are injected). Per peer, by `start_action`:
 * - `none`: never dials (answer only);
 * - `start`: dials when configured and keeps the tunnel up: after a failed attempt it backs off
 *   (backoff.ts: 1 s doubling to 60 s, jittered) and retries forever; after the peer was
 *   declared dead or deleted the IKE SA it dials again at once;
 * - `trap`: waits for the data path to report a packet for `remote_ts` (a trap hit), then
 *   dials; after a failure it backs off, then waits for the next packet again.
 * The manager only decides: it emits `initiate` actions and one timer; the caller resolves the
 * peer's name, runs the exchanges and reports back with {@link ConnectionManager.established},
 * {@link ConnectionManager.failed} and {@link ConnectionManager.down}.
 * @module
 */

import { backoffDelay } from "./backoff.ts";

/** How a peer's tunnel comes up (the config's `start_action`). */
export type StartAction = "none" | "start" | "trap";

/** Where a dialled peer stands. */
export type ConnState = "idle" | "trapped" | "connecting" | "up" | "backoff";

/** An attempt that neither succeeded nor failed by itself is abandoned after this long (ms). */
export const ATTEMPT_TIMEOUT_MS = 120_000;

/** Start an attempt towards `peer` (resolve its address, send the first message). */
export interface InitiateAction {
  /** Discriminant. */
  readonly kind: "initiate";
  /** Peer name. */
  readonly peer: string;
  /** 1 for the first attempt after the last success, counting up while they fail. */
  readonly attempt: number;
}

/** Call {@link ConnectionManager.tick} at `at` (the earliest deadline; replaces earlier ones). */
export interface ConnTimerAction {
  /** Discriminant. */
  readonly kind: "timer";
  /** When, in the caller's milliseconds. */
  readonly at: number;
}

/** What the manager asks its caller to do. */
export type ConnAction = InitiateAction | ConnTimerAction;

/** One peer as `show peers` prints it. */
export interface ConnView {
  /** Peer name. */
  readonly name: string;
  /** Its start_action. */
  readonly startAction: StartAction;
  /** Where it stands. */
  readonly state: ConnState;
  /** While backing off: when the next attempt (or re-arming of the trap) is due (ms). */
  readonly until?: number;
  /** Consecutive failed attempts. */
  readonly failures: number;
  /** The last failure, or "". */
  readonly lastError: string;
}

interface Conn {
  action: StartAction;
  state: ConnState;
  failures: number;
  lastError: string;
  /** Backoff end, or the attempt's deadline while connecting. */
  due: number | undefined;
}

/** A peer as the manager needs it (a subset of PeerConfig). */
export interface DialPeer {
  /** Name. */
  readonly name: string;
  /** start_action. */
  readonly start_action: StartAction;
}

/** Per-peer dialling state for every configured peer. */
export class ConnectionManager {
  readonly #random: () => number;
  readonly #conns = new Map<string, Conn>();
  #timerAt: number | undefined;

  /** A manager drawing jitter from `random` (values in [0, 1)). */
  constructor(random: () => number) {
    this.#random = random;
  }

  /**
   * The configured peers (at start and at every commit). New `start` peers are dialled; a
   * peer whose start_action changed starts over; removed peers are forgotten.
   */
  configure(peers: readonly DialPeer[], now: number): ConnAction[] {
    const out: ConnAction[] = [];
    const names = new Set(peers.map((p) => p.name));
    for (const name of [...this.#conns.keys()]) if (!names.has(name)) this.#conns.delete(name);
    for (const p of peers) {
      const c = this.#conns.get(p.name);
      if (c !== undefined && c.action === p.start_action) continue;
      const fresh: Conn = {
        action: p.start_action,
        state: "idle",
        failures: 0,
        lastError: "",
        due: undefined,
      };
      // A peer that is up stays up under its new action; the next loss applies the new one.
      if (c?.state === "up") fresh.state = "up";
      this.#conns.set(p.name, fresh);
      if (fresh.state !== "up") this.#rest(p.name, fresh, now, out);
    }
    return this.#withTimer(out);
  }

  /** The data path saw a packet for a trapped peer's remote_ts. */
  trapHit(peer: string, now: number): ConnAction[] {
    const c = this.#conns.get(peer);
    const out: ConnAction[] = [];
    if (c?.action === "trap" && c.state === "trapped") this.#dial(peer, c, now, out);
    return this.#withTimer(out);
  }

  /** The attempt succeeded (IKE SA and first child SA established). */
  established(peer: string, _now: number): ConnAction[] {
    const c = this.#conns.get(peer);
    if (c !== undefined) {
      c.state = "up";
      c.failures = 0;
      c.lastError = "";
      c.due = undefined;
    }
    return this.#withTimer([]);
  }

  /** The attempt failed (no answer, refused, DNS): back off. Ignored unless connecting. */
  failed(peer: string, why: string, now: number): ConnAction[] {
    const c = this.#conns.get(peer);
    if (c === undefined || c.state !== "connecting") return this.#withTimer([]);
    this.#backoff(c, why, now);
    return this.#withTimer([]);
  }

  /**
   * An up tunnel was lost (dead peer, IKE SA deleted by the peer): `start` dials again at once,
   * `trap` re-arms its trap.
   */
  down(peer: string, why: string, now: number): ConnAction[] {
    const c = this.#conns.get(peer);
    const out: ConnAction[] = [];
    if (c === undefined || c.state !== "up") return this.#withTimer(out);
    c.lastError = why;
    this.#rest(peer, c, now, out);
    return this.#withTimer(out);
  }

  /** `clear ike sa NAME`: the SAs were dropped; `start` dials again now, `trap` re-arms. */
  clear(peer: string, now: number): ConnAction[] {
    const c = this.#conns.get(peer);
    const out: ConnAction[] = [];
    if (c === undefined) return this.#withTimer(out);
    c.failures = 0;
    c.lastError = "";
    this.#rest(peer, c, now, out);
    return this.#withTimer(out);
  }

  /** Deadlines: backoffs that ended, attempts that took too long. */
  tick(now: number): ConnAction[] {
    const out: ConnAction[] = [];
    for (const [name, c] of this.#conns) {
      if (c.due === undefined || now < c.due) continue;
      if (c.state === "connecting") {
        this.#backoff(c, "attempt timed out", now);
      } else if (c.state === "backoff") {
        c.due = undefined;
        if (c.action === "start") this.#dial(name, c, now, out);
        else if (c.action === "trap") c.state = "trapped";
        else c.state = "idle";
      }
    }
    this.#timerAt = undefined;
    return this.#withTimer(out);
  }

  /** The peer's state, or undefined for an unknown peer. */
  state(peer: string): ConnState | undefined {
    return this.#conns.get(peer)?.state;
  }

  /** Every configured peer, for `show peers`. */
  views(): ConnView[] {
    return [...this.#conns].map(([name, c]) => ({
      name,
      startAction: c.action,
      state: c.state,
      ...(c.state === "backoff" && c.due !== undefined ? { until: c.due } : {}),
      failures: c.failures,
      lastError: c.lastError,
    }));
  }

  /** What a peer does when nothing is in progress: dial (`start`), wait for traffic, or idle. */
  #rest(name: string, c: Conn, now: number, out: ConnAction[]): void {
    c.due = undefined;
    if (c.action === "start") this.#dial(name, c, now, out);
    else c.state = c.action === "trap" ? "trapped" : "idle";
  }

  #dial(name: string, c: Conn, now: number, out: ConnAction[]): void {
    c.state = "connecting";
    c.due = now + ATTEMPT_TIMEOUT_MS;
    out.push({ kind: "initiate", peer: name, attempt: c.failures + 1 });
  }

  #backoff(c: Conn, why: string, now: number): void {
    c.failures++;
    c.lastError = why;
    c.state = "backoff";
    c.due = now + backoffDelay(c.failures, this.#random);
  }

  #withTimer(out: ConnAction[]): ConnAction[] {
    let at: number | undefined;
    for (const c of this.#conns.values()) {
      if (c.due !== undefined && (at === undefined || c.due < at)) at = c.due;
    }
    if (at !== undefined && at !== this.#timerAt) {
      this.#timerAt = at;
      out.push({ kind: "timer", at });
    }
    return out;
  }
}
