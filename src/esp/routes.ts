/**
 * Routes into the TUN device for the remote traffic selectors of outbound SAs, so hosts
 * behind the gateway reach the far subnets with no extra setup: a route exists while at least
 * one outbound SA covers it (make-before-break rekeys keep it), and goes with the last one.
 *
 * Selector ranges (RFC 4301 §4.4.1.1) are split into the fewest CIDR prefixes. A prefix that
 * contains the SA's own outer peer address is not routed (its ESP would loop into the tunnel);
 * that is reported as a warning. Commands run one at a time, in order.
 * @module
 */

import { NetlinkRoutes } from "../../hw/netlink.ts";
import { formatIp, parseIp } from "../net/addr.ts";
import type { EspSaSpec, TrafficSelector } from "./sa_spec.ts";

/** How routes are changed (rtnetlink in production, a recorder in tests). */
export interface RouteCommands {
  /** Adds or replaces the route for `prefix` ("203.0.113.0/24") through device `dev`. */
  add(prefix: string, dev: string): Promise<void>;
  /** Deletes that route. */
  remove(prefix: string, dev: string): Promise<void>;
}

/**
 * Route commands through an rtnetlink socket (hw/netlink.ts): the same changes as
 * `ip route replace|del PREFIX dev DEV`, without a process per route.
 */
export function netlinkRouteCommands(): RouteCommands {
  const nl = new NetlinkRoutes();
  const run = (verb: "replace" | "remove", prefix: string, dev: string) => {
    const [text, len] = prefix.split("/");
    const address = parseIp(text ?? "");
    if (address === undefined || len === undefined || !/^\d{1,3}$/.test(len)) {
      return Promise.reject(new Error(`bad prefix ${prefix}`));
    }
    try {
      nl[verb](address, Number(len), dev);
      return Promise.resolve();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return Promise.reject(new Error(`route ${verb} ${prefix} dev ${dev}: ${why}`));
    } finally {
      nl.close(); // routes change per SA, rarely: no socket held between changes
    }
  };
  return {
    add: (prefix, dev) => run("replace", prefix, dev),
    remove: (prefix, dev) => run("remove", prefix, dev),
  };
}

function toBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function fromBig(v: bigint, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

/**
 * The fewest CIDR prefixes covering `start`..`end` inclusive (same family, start ≤ end), as
 * text; [] for a reversed range.
 */
export function rangeToPrefixes(start: Uint8Array, end: Uint8Array): string[] {
  if (start.length !== end.length) return [];
  const bits = BigInt(start.length * 8);
  let lo = toBig(start);
  const hi = toBig(end);
  const out: string[] = [];
  while (lo <= hi) {
    let size = 0n; // log2 of the block
    while (size < bits) {
      const next = size + 1n;
      const mask = (1n << next) - 1n;
      if ((lo & mask) !== 0n || lo + mask > hi) break;
      size = next;
    }
    out.push(`${formatIp(fromBig(lo, start.length))}/${bits - size}`);
    lo += 1n << size;
  }
  return out;
}

function contains(prefix: string, address: Uint8Array): boolean {
  const [text, len] = prefix.split("/");
  const base = parseIp(text!);
  if (base === undefined || base.length !== address.length) return false;
  const shift = BigInt(address.length * 8 - Number(len));
  return toBig(base) >> shift === toBig(address) >> shift;
}

/** Reference-counted routes of one TUN device. */
export class RouteTable {
  readonly #refs = new Map<string, number>(); // prefix → outbound SAs using it
  readonly #bySa = new Map<number, string[]>(); // outbound SPI → its prefixes
  #queue: Promise<unknown> = Promise.resolve();

  /** Routes through `dev` with `commands`. */
  constructor(readonly dev: string, private readonly commands: RouteCommands) {}

  /** Prefixes currently routed. */
  get prefixes(): string[] {
    return [...this.#refs.keys()];
  }

  #serial<T>(job: () => Promise<T>): Promise<T> {
    const p = this.#queue.then(job);
    this.#queue = p.catch(() => {});
    return p;
  }

  /** Routes the remote selectors of outbound SA `spec`; resolves with warnings (never rejects). */
  addSa(spec: EspSaSpec): Promise<string[]> {
    if (spec.direction !== "out") return Promise.resolve([]);
    return this.addClaim(spec.spi, spec.endpoints.remote, spec.remoteSelectors);
  }

  /**
   * Routes `selectors` under claim `key` (an outbound SPI, or a negative number for a `trap`
   * peer's remote_ts); prefixes containing the peer's outer address `remote` are skipped.
   */
  addClaim(
    key: number,
    remote: string,
    selectors: readonly TrafficSelector[],
  ): Promise<string[]> {
    return this.#serial(async () => {
      if (this.#bySa.has(key)) return [];
      const warnings: string[] = [];
      const peer = parseIp(remote);
      const mine: string[] = [];
      for (const ts of selectors) {
        const s = parseIp(ts.startAddress);
        const e = parseIp(ts.endAddress);
        if (s === undefined || e === undefined) continue;
        for (const prefix of rangeToPrefixes(s, e)) {
          if (peer !== undefined && contains(prefix, peer)) {
            warnings.push(`not routing ${prefix}: it contains the peer ${remote}`);
            continue;
          }
          if (mine.includes(prefix)) continue;
          const n = this.#refs.get(prefix) ?? 0;
          if (n === 0) {
            try {
              await this.commands.add(prefix, this.dev);
            } catch (err) {
              warnings.push(err instanceof Error ? err.message : String(err));
              continue;
            }
          }
          this.#refs.set(prefix, n + 1);
          mine.push(prefix);
        }
      }
      this.#bySa.set(key, mine);
      return warnings;
    });
  }

  /** Drops outbound SA `spi`'s claim on its routes, removing those no SA uses any more. */
  removeSa(spi: number): Promise<string[]> {
    return this.#serial(async () => {
      const mine = this.#bySa.get(spi);
      if (mine === undefined) return [];
      this.#bySa.delete(spi);
      const warnings: string[] = [];
      for (const prefix of mine) {
        const n = (this.#refs.get(prefix) ?? 1) - 1;
        if (n > 0) {
          this.#refs.set(prefix, n);
          continue;
        }
        this.#refs.delete(prefix);
        try {
          await this.commands.remove(prefix, this.dev);
        } catch (err) {
          warnings.push(err instanceof Error ? err.message : String(err));
        }
      }
      return warnings;
    });
  }

  /** Removes every route this table added. */
  async clear(): Promise<string[]> {
    const warnings: string[] = [];
    for (const spi of [...this.#bySa.keys()]) warnings.push(...await this.removeSa(spi));
    return warnings;
  }
}
