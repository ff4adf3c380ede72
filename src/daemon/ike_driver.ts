/**
 * The IKE driver: feeds the sans-I/O responder (src/ike/actions.ts) with datagrams, clock ticks
 * and the data path's lifetime events, and carries out the actions it returns, in order: sends
 * (port 500 through the IKE sockets, the NAT-T port through the data path, which adds the
 * non-ESP marker of RFC 3948 §2.2), SA installs and deletes on the data path, the one timer,
 * and events into the log (and so `show log`).
 * @module
 */

import type { ConnectionAction, Endpoint, IkeAction, IkeResponder } from "../ike/actions.ts";
import type { EspLifetimeEvent, EspSaSpec } from "../esp/sa_spec.ts";
import type { Logger } from "../log.ts";

/** What the driver needs of the data path (a subset of `DataPathHandle`). */
export interface DriverDataPath {
  /** Installs one SA. */
  installSa(spec: EspSaSpec): Promise<void>;
  /** Removes one SA. */
  deleteSa(spi: number, direction: "in" | "out"): Promise<boolean>;
  /** Sends an IKE datagram on the NAT-T port (the data path prepends the non-ESP marker). */
  sendIke(datagram: Uint8Array, local: Endpoint, remote: Endpoint): void;
}

/** Sends IKE datagrams from the IKE (port 500) sockets. */
export interface IkeSender {
  /** Sends `datagram` from `local` to `remote`; false when no socket serves `local`. */
  send(datagram: Uint8Array, local: Endpoint, remote: Endpoint): boolean;
}

/** How a driver is built. */
export interface IkeDriverOptions {
  /** The responder. */
  readonly responder: IkeResponder;
  /** The data path. */
  readonly dataPath: DriverDataPath;
  /** The port-500 sockets. */
  readonly ike: IkeSender;
  /** The NAT-T port: sends from it go through the data path. */
  readonly natPort: number;
  /** Logger for events and failures. */
  readonly log: Logger;
  /** Monotonic milliseconds (default `performance.now`). */
  readonly now?: () => number;
  /** Receives the engine's connection reports (the dialler). */
  readonly onConnection?: (a: ConnectionAction) => void;
}

/** Counters of what the driver did, for `show version` style diagnostics and tests. */
export interface DriverStats {
  /** Datagrams handed to the responder. */
  received: number;
  /** Datagrams sent (both ports). */
  sent: number;
  /** Sends that had no socket for the local address. */
  sendFailures: number;
  /** SA installs that the data path refused. */
  installFailures: number;
}

/** Drives one responder. All input goes through {@link input}, so actions run in order. */
export class IkeDriver {
  readonly #o: IkeDriverOptions;
  readonly #now: () => number;
  #chain: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The deadline the armed timer was set for (ms, the driver's clock). */
  #armedFor = 0;
  /** The responder's deadline: the last timer action's `at`. */
  #due = 0;
  #stopped = false;
  /** What the driver did so far. */
  readonly stats: DriverStats = { received: 0, sent: 0, sendFailures: 0, installFailures: 0 };

  /** Creates the driver; nothing runs until input arrives. */
  constructor(opts: IkeDriverOptions) {
    this.#o = opts;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** The clock the responder sees. */
  now(): number {
    return this.#now();
  }

  /** One received IKE datagram (marker already removed). */
  datagram(data: Uint8Array, local: Endpoint, remote: Endpoint): void {
    if (this.#stopped) return;
    this.stats.received++;
    this.input((r, now) => r.handle(data, local, remote, now));
  }

  /** A lifetime event from the data path. */
  lifetime(event: EspLifetimeEvent): void {
    if (this.#stopped) return;
    this.input((r, now) => r.espLifetime(event, now));
  }

  /**
   * Calls the responder now (synchronously, so its state advances at once) and queues the
   * actions behind every earlier batch. Returns when this batch has been carried out. A
   * responder that throws (a bug) is logged, never propagated.
   */
  input(call: (r: IkeResponder, now: number) => IkeAction[]): Promise<void> {
    let actions: IkeAction[];
    try {
      actions = call(this.#o.responder, this.#now());
    } catch (err) {
      this.#o.log.error("IKE responder failed on input", { error: errText(err) });
      return this.#chain;
    }
    const run = this.#chain.then(() => this.#execute(actions));
    this.#chain = run;
    return run;
  }

  /** Waits until every queued action ran. */
  idle(): Promise<void> {
    return this.#chain;
  }

  /** Stops the timer; later input is ignored (call after the responder's shutdown ran). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #execute(actions: readonly IkeAction[]): Promise<void> {
    for (const a of actions) {
      try {
        await this.#one(a);
      } catch (err) {
        this.#o.log.error("IKE action failed", { action: a.kind, error: errText(err) });
      }
    }
  }

  async #one(a: IkeAction): Promise<void> {
    const { log } = this.#o;
    switch (a.kind) {
      case "send": {
        if (a.local.port === this.#o.natPort) {
          this.#o.dataPath.sendIke(a.datagram, a.local, a.remote);
          this.stats.sent++;
        } else if (this.#o.ike.send(a.datagram, a.local, a.remote)) {
          this.stats.sent++;
        } else {
          this.stats.sendFailures++;
          log.warn("no IKE socket for the local address", {
            local: `${a.local.address}:${a.local.port}`,
          });
        }
        return;
      }
      case "installSa":
        try {
          await this.#o.dataPath.installSa(a.spec);
          log.debug("ESP SA installed", {
            peer: a.spec.peer,
            spi: spiHex(a.spec.spi),
            dir: a.spec.direction,
          });
        } catch (err) {
          this.stats.installFailures++;
          log.error("ESP SA install failed; the child SA is deleted and the peer told", {
            peer: a.spec.peer,
            spi: spiHex(a.spec.spi),
            dir: a.spec.direction,
            error: errText(err),
          });
          // Fed back as the SA's end (a hard lifetime event): IKE drops the whole child and
          // sends the peer a Delete, so both sides agree it does not exist (RFC 2408 §3.15).
          const { spi, direction, childId } = a.spec;
          void this.input((r, now) =>
            r.espLifetime({ kind: "hard", spi, direction, childId }, now)
          );
        }
        return;
      case "deleteSa": {
        const had = await this.#o.dataPath.deleteSa(a.spi, a.direction);
        log.debug("ESP SA removed", {
          peer: a.peer,
          spi: spiHex(a.spi),
          dir: a.direction,
          found: had,
        });
        return;
      }
      case "timer":
        this.#arm(a.at);
        return;
      case "event":
        log.log(a.level, a.message, { peer: a.peer, ...a.fields });
        return;
      case "connection":
        log.debug(`connection ${a.event}`, { peer: a.peer, reason: a.reason });
        this.#o.onConnection?.(a);
        return;
    }
  }

  /**
   * The responder's next deadline is `at` (a later action replaces it). A timer already armed
   * for no later than `at` is kept: when it fires early it only re-arms for `at`, so a deadline
   * moving later (most actions) costs no timer cancel and re-create per datagram.
   */
  #arm(at: number): void {
    this.#due = at;
    if (this.#stopped) return;
    if (this.#timer !== undefined && this.#armedFor <= at) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#set(at);
  }

  #set(at: number): void {
    // Rounded up (+1 ms): a timer that fires before `at` would find nothing due, and an engine
    // that keeps the same deadline arms no new timer.
    const delay = Math.min(Math.max(0, Math.ceil(at - this.#now()) + 1), 0x7fffffff);
    this.#armedFor = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped) return;
      if (this.#due > this.#armedFor) this.#set(this.#due);
      else void this.input((r, now) => r.tick(now));
    }, delay);
  }
}

function spiHex(spi: number): string {
  return (spi >>> 0).toString(16).padStart(8, "0");
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
