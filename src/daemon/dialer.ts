/**
 * The dialler: runs the sans-I/O connection manager (src/ike/initiator/connections.ts) for the
 * daemon. It keeps the manager's one timer, resolves each peer's `remote` at every attempt
 * (an address as is; a DNS name by A and AAAA queries, the family of our listen addresses
 * first), hands the address to the IKE engine through the driver, and feeds the engine's
 * connection reports (up, failed, down) back into the manager.
 * @module
 */

import type { PeerConfig } from "../config/schema.ts";
import type { ConnectionAction, IkeAction, IkeResponder } from "../ike/actions.ts";
import { type ConnAction, ConnectionManager, type ConnView } from "../ike/initiator/connections.ts";
import type { Logger } from "../log.ts";
import { parseIp } from "../net/addr.ts";

/** A DNS lookup of one record type (Deno.resolveDns by default). */
export type Resolver = (name: string, type: "A" | "AAAA") => Promise<string[]>;

/** What the dialler needs of the IKE driver. */
export interface DialDriver {
  /** The driver's clock (ms). */
  now(): number;
  /** Runs a call on the engine and carries out its actions in order. */
  input(call: (r: IkeResponder, now: number) => IkeAction[]): Promise<void>;
}

/** How a dialler is built. */
export interface DialerOptions {
  /** The driver of the IKE engine. */
  readonly driver: DialDriver;
  /** Log. */
  readonly log: Logger;
  /** Our listen addresses (the family to prefer for DNS answers). */
  readonly listen: readonly string[];
  /** DNS (default Deno.resolveDns). */
  readonly resolve?: Resolver;
  /** Jitter source in [0, 1) (default Math.random). */
  readonly random?: () => number;
}

/** Per-peer dialling for the running daemon. */
export class Dialer {
  readonly #o: DialerOptions;
  readonly #m: ConnectionManager;
  readonly #resolve: Resolver;
  #peers: readonly PeerConfig[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /** A dialler; nothing is dialled before {@link configure}. */
  constructor(o: DialerOptions) {
    this.#o = o;
    this.#m = new ConnectionManager(o.random ?? Math.random);
    this.#resolve = o.resolve ??
      ((name, type) => Deno.resolveDns(name, type) as Promise<string[]>);
  }

  /** The configured peers (start and every commit). */
  configure(peers: readonly PeerConfig[]): void {
    this.#peers = peers;
    this.#do(this.#m.configure(peers, this.#o.driver.now()));
  }

  /** A report from the IKE engine. */
  connection(a: ConnectionAction): void {
    const now = this.#o.driver.now();
    if (a.event === "up") this.#do(this.#m.established(a.peer, now));
    else if (a.event === "failed") this.#do(this.#m.failed(a.peer, a.reason, now));
    else this.#do(this.#m.down(a.peer, a.reason, now));
  }

  /** The data path saw traffic for a trapped peer. */
  trapHit(peer: string): void {
    this.#do(this.#m.trapHit(peer, this.#o.driver.now()));
  }

  /** `clear ike sa NAME` ran: `start` peers dial again at once. */
  clear(peer: string): void {
    this.#do(this.#m.clear(peer, this.#o.driver.now()));
  }

  /** Per-peer state for `show peers`. */
  views(): ConnView[] {
    return this.#m.views();
  }

  /** The driver's clock, for turning `until` into seconds. */
  now(): number {
    return this.#o.driver.now();
  }

  /** Stops the timer; later reports are ignored. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #do(actions: readonly ConnAction[]): void {
    if (this.#stopped) return;
    for (const a of actions) {
      if (a.kind === "timer") this.#arm(a.at);
      else void this.#dial(a.peer, a.attempt);
    }
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const delay = Math.min(Math.max(0, at - this.#o.driver.now()), 0x7fffffff);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#do(this.#m.tick(this.#o.driver.now()));
    }, delay);
  }

  async #dial(name: string, attempt: number): Promise<void> {
    const peer = this.#peers.find((p) => p.name === name);
    if (peer === undefined) return;
    let address: string;
    try {
      address = await this.#address(peer.remote);
    } catch (err) {
      const why = `cannot resolve ${peer.remote}: ${err instanceof Error ? err.message : err}`;
      this.#o.log.warn("dial failed", { peer: name, attempt, error: why });
      if (!this.#stopped) this.#do(this.#m.failed(name, why, this.#o.driver.now()));
      return;
    }
    if (this.#stopped) return;
    this.#o.log.info("dialling", { peer: name, remote: address, attempt });
    await this.#o.driver.input((r, now) =>
      r.initiate?.(name, address, now) ??
        [{ kind: "connection", peer: name, event: "failed", reason: "the engine cannot dial" }]
    );
  }

  /** The peer's address now: an IP as is, a DNS name resolved (A and AAAA). */
  async #address(remote: string): Promise<string> {
    if (parseIp(remote) !== undefined) return remote;
    const v6First = this.#o.listen.length > 0 && this.#o.listen.every((l) => l.includes(":"));
    const order: ("A" | "AAAA")[] = v6First ? ["AAAA", "A"] : ["A", "AAAA"];
    const errors: string[] = [];
    for (const type of order) {
      try {
        const got = (await this.#resolve(remote, type)).filter((x) => parseIp(x) !== undefined);
        if (got.length > 0) return got[0]!;
        errors.push(`no ${type} record`);
      } catch (err) {
        errors.push(`${type}: ${err instanceof Error ? err.message : err}`);
      }
    }
    throw new Error(errors.join("; "));
  }
}
