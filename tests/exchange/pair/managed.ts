/**
 * The pair of wire.ts with the branch's connection manager (src/ike/initiator/connections.ts)
 * in the loop, as the daemon's dialler runs it: the branch engine's connection reports go to
 * the manager, whose `initiate` actions dial and whose timer fires with the engines' on the
 * same fake clock. Shows that a `start` peer comes back by itself.
 * @module
 */

import type { ConnectionAction, IkePolicy } from "../../../src/ike/actions.ts";
import { type ConnAction, ConnectionManager } from "../../../src/ike/initiator/connections.ts";
import { createIkeEngine } from "../../../src/ike/engine.ts";
import { branchPolicy, hubPolicy, Wire } from "./wire.ts";

/** A branch/hub pair of full engines with the branch's connection manager. */
export class Managed {
  /** The engines. */
  readonly w: Wire;
  /** The branch's connection manager (jitter fixed at the middle of its range). */
  readonly cm = new ConnectionManager(() => 0.5);
  /** Dials made by the manager, with the time. */
  readonly dials: number[] = [];
  #cmTimer: number | undefined;
  #seen = 0;
  readonly #hubPolicy: IkePolicy;

  /** Both sides over `branch`/`hub` settings (IKEv2 unless given). */
  constructor(branch: Record<string, unknown> = {}, hub: Record<string, unknown> = {}) {
    const b = branchPolicy({ ike_version: 2, ...branch });
    this.#hubPolicy = hubPolicy({ ike_version: 2, ...hub });
    this.w = new Wire(b, this.#hubPolicy, (p) => createIkeEngine(p));
    this.#apply(this.cm.configure(b.config.peer, this.w.now));
  }

  /** Connection reports of the branch so far, as "event:reason". */
  get events(): string[] {
    return this.w.branch.log.filter((a): a is ConnectionAction => a.kind === "connection")
      .map((c) => `${c.event}:${c.reason}`);
  }

  /** The hub restarts with no state (kill -9 and start again). */
  restartHub(): void {
    this.w.hub.engine = createIkeEngine(this.#hubPolicy);
    this.w.hub.sas.clear();
    this.w.hub.timer = undefined;
  }

  /**
   * The data path of `side` removes its first child's SA of `direction` at its hard lifetime
   * and reports it to the engine; returns that child.
   */
  expire(side: "branch" | "hub", direction: "in" | "out") {
    const me = side === "branch" ? this.w.branch : this.w.hub;
    const child = me.engine.childSas(this.w.now)[0]!;
    const spi = direction === "in" ? child.inboundSpi : child.outboundSpi;
    me.sas.delete(`${direction}:${spi}`);
    this.w.run(
      side,
      me.engine.espLifetime({ kind: "hard", spi, direction, childId: child.childId }, this.w.now),
    );
    this.#reports();
    return child;
  }

  /** Advances the clock to `t` in steps of at most `step` ms, feeding reports to the manager. */
  advance(t: number, step = 100): void {
    while (this.w.now < t) {
      let next = Math.min(t, this.w.now + step);
      if (this.#cmTimer !== undefined && this.#cmTimer <= next) next = this.#cmTimer;
      this.w.advance(next);
      this.#reports();
      if (this.#cmTimer !== undefined && this.#cmTimer <= this.w.now) {
        this.#cmTimer = undefined;
        this.#apply(this.cm.tick(this.w.now));
      }
    }
    this.#reports();
  }

  #reports(): void {
    const log = this.w.branch.log;
    for (; this.#seen < log.length; this.#seen++) {
      const a = log[this.#seen]!;
      if (a.kind !== "connection") continue;
      const now = this.w.now;
      if (a.event === "up") this.#apply(this.cm.established(a.peer, now));
      else if (a.event === "failed") this.#apply(this.cm.failed(a.peer, a.reason, now));
      else this.#apply(this.cm.down(a.peer, a.reason, now));
    }
  }

  #apply(actions: readonly ConnAction[]): void {
    for (const a of actions) {
      if (a.kind === "timer") this.#cmTimer = a.at;
      else {
        this.dials.push(this.w.now);
        this.w.dial();
        this.#reports();
      }
    }
  }
}
