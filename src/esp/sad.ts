/**
 * The SA database of the data path (RFC 4301 §4.4.2): inbound SAs by SPI, outbound SAs by
 * traffic selectors. Sans-I/O: it takes buffers and the current time and returns where the
 * result lies; the Worker owns fds and clocks.
 *
 * Rekeying is make-before-break: a new outbound SA for the same selectors takes over at once
 * (newest wins), or — installed on standby (`activateOn`) — with the first authenticated
 * packet on its inbound partner, while the old inbound SA keeps decapsulating until IKE deletes
 * it or it expires.
 * @module
 */

import {
  type Decapsulated,
  type InboundSa,
  NEXT_IPV4,
  NEXT_IPV6,
  type OutboundSa,
} from "./esp_sa.ts";
import { createInboundSa, createOutboundSa, hexSpi, type SaCrypto } from "./sa_factory.ts";
import type { EspLifetimeEvent, EspSaCounters, EspSaSpec } from "./sa_spec.ts";
import {
  type CompiledSelector,
  compileSelectors,
  type InnerHeader,
  matchesSelectors,
  newInnerHeader,
  parseInnerHeader,
} from "./selectors.ts";
import { SelectorIndex } from "./selector_index.ts";
import { formatIp } from "../net/addr.ts";

/** Distinct uncovered destinations remembered between two {@link SaDatabase.takeMissed}. */
export const MAX_MISSED = 16;

export type { SaCrypto } from "./sa_factory.ts";

interface Entry<T extends InboundSa | OutboundSa> {
  readonly spec: EspSaSpec;
  readonly sa: T;
  readonly local: CompiledSelector[];
  readonly remote: CompiledSelector[];
  readonly installedAt: number;
  softSent: boolean;
  /** Outbound: carries packets (false while on standby, see `EspSaSpec.activateOn`). */
  active: boolean;
}

/** Counters that belong to no SA. */
export interface SadStats {
  /** ESP packets whose SPI matched no inbound SA. */
  unknownSpi: number;
  /** Outbound packets no SA's selectors covered. */
  noPolicy: number;
  /** ESP packets too short to carry an SPI and sequence number, or buffers without room. */
  malformed: number;
}

/** Where {@link SaDatabase.encapsulate} put an ESP packet (a reused object). */
export interface Encapsulated {
  /** The outbound SA's spec (endpoints for the outer header). */
  spec: EspSaSpec;
  /** Offset of the ESP packet (its SPI) in the buffer. */
  offset: number;
  /** Length of the ESP packet, ICV included. */
  length: number;
}

/** Bytes the largest ESP header takes in front of the inner packet: SPI, Seq, a 16-byte IV. */
export const MAX_ESP_HEADER = 8 + 16;

/** Bytes the largest ESP trailer takes: padding up to a block − 1, 2 trailer bytes, a 32-byte ICV. */
export const MAX_ESP_TRAILER = 15 + 2 + 32;

/**
 * The SA database. Times are milliseconds of any monotonic clock; byte limits are checked per
 * packet, time limits by {@link SaDatabase.expire}, which the Worker calls about once a second.
 */
export class SaDatabase {
  readonly #inbound = new Map<number, Entry<InboundSa>>();
  #outbound: Entry<OutboundSa>[] = []; // newest first
  readonly #index = new SelectorIndex<Entry<OutboundSa>>();
  readonly #header: InnerHeader = newInnerHeader();
  readonly #events: EspLifetimeEvent[] = [];
  /** Counters outside any SA. */
  readonly stats: SadStats = { unknownSpi: 0, noPolicy: 0, malformed: 0 };
  readonly #missed = new Set<string>();
  /** Outbound SAs on standby by the inbound SPI whose first packet activates them. */
  readonly #standby = new Map<number, Entry<OutboundSa>>();
  /** The inbound SA of the last packet {@link SaDatabase.decapsulate} delivered. */
  lastInbound: EspSaSpec | undefined;

  readonly #result: Encapsulated;

  /** A database whose SAs take their cipher contexts from `crypto` (`getCrypto()`). */
  constructor(private readonly crypto: SaCrypto) {
    this.#result = { spec: undefined as unknown as EspSaSpec, offset: 0, length: 0 };
  }

  /**
   * Installs one SA, AEAD or cipher+MAC. Throws a RangeError with the reason for a spec it
   * cannot carry (unknown transform, wrong key length, bad selectors, SPI in use); nothing is
   * installed then.
   */
  install(spec: EspSaSpec, now: number): void {
    const local = compileSelectors(spec.localSelectors);
    const remote = compileSelectors(spec.remoteSelectors);
    if (spec.direction === "in") {
      if (this.#inbound.has(spec.spi)) throw new RangeError(`SA ${hexSpi(spec.spi)}: SPI in use`);
      const sa = createInboundSa(spec, this.crypto);
      const e = { spec, sa, local, remote, installedAt: now, softSent: false, active: true };
      this.#inbound.set(spec.spi, e);
    } else {
      if (this.#outbound.some((e) => e.spec.spi === spec.spi)) {
        throw new RangeError(`SA ${hexSpi(spec.spi)}: SPI in use`);
      }
      const sa = createOutboundSa(spec, this.crypto);
      const active = spec.activateOn === undefined;
      const e = { spec, sa, local, remote, installedAt: now, softSent: false, active };
      this.#outbound.unshift(e);
      if (!active) this.#standby.set(spec.activateOn!, e);
      this.#rebuild();
    }
  }

  /**
   * Puts outbound SA `spi`, installed on standby, into service (IKE finished its exchange);
   * true also when its partner's first packet did already, false when there is no such SA.
   */
  activate(spi: number): boolean {
    const e = this.#outbound.find((x) => x.spec.spi === spi && x.spec.activateOn !== undefined);
    if (e === undefined) return false;
    if (!e.active) {
      this.#standby.delete(e.spec.activateOn!);
      e.active = true;
      this.#rebuild();
    }
    return true;
  }

  /** The selector index over the outbound SAs in service, newest first. */
  #rebuild(): void {
    this.#index.rebuild(
      this.#standby.size === 0 ? this.#outbound : this.#outbound.filter((e) => e.active),
    );
  }

  /** Number of installed SAs per direction. */
  get size(): { in: number; out: number } {
    return { in: this.#inbound.size, out: this.#outbound.length };
  }

  /** The specs of every installed SA (inbound first). */
  specs(): EspSaSpec[] {
    return [
      ...[...this.#inbound.values()].map((e) => e.spec),
      ...this.#outbound.map((e) => e.spec),
    ];
  }

  /** Removes an SA; false when there was none. */
  remove(spi: number, direction: "in" | "out"): boolean {
    if (direction === "in") {
      const e = this.#inbound.get(spi);
      if (e === undefined) return false;
      e.sa.dispose();
      return this.#inbound.delete(spi);
    }
    const i = this.#outbound.findIndex((e) => e.spec.spi === spi);
    if (i < 0) return false;
    const e = this.#outbound[i]!;
    e.sa.dispose();
    this.#outbound.splice(i, 1);
    if (!e.active) this.#standby.delete(e.spec.activateOn!);
    this.#rebuild();
    return true;
  }

  /**
   * Decapsulates the ESP packet at `buf[offset, offset+length)` in place and checks the inner
   * packet against the SA's selectors (inner source in the peer's, destination in ours).
   * Returns the inner packet's place, or undefined after counting the drop.
   */
  decapsulate(buf: Uint8Array, offset: number, length: number): Decapsulated | undefined {
    if (length < 8 || offset < 0 || offset + length > buf.length) {
      this.stats.malformed++;
      return undefined;
    }
    const spi = ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) |
      buf[offset + 3]!) >>> 0;
    const e = this.#inbound.get(spi);
    if (e === undefined) {
      this.stats.unknownSpi++;
      return undefined;
    }
    const r = e.sa.decapsulate(buf, offset, length);
    if (r === undefined) return undefined;
    const h = this.#header;
    if (!parseInnerHeader(buf, r.offset, r.length, h)) {
      e.sa.counters.drop("inner");
      return undefined;
    }
    if (!matchesSelectors(buf, h, e.remote, e.local)) {
      e.sa.counters.drop("policy");
      return undefined;
    }
    e.sa.counters.packets++;
    e.sa.counters.bytes += r.length;
    this.#checkBytes(e);
    this.lastInbound = e.spec;
    // The peer sends on a new pair: its outbound partner on standby goes into service.
    if (this.#standby.size !== 0) {
      const s = this.#standby.get(spi);
      if (s !== undefined) {
        this.#standby.delete(spi);
        s.active = true;
        this.#rebuild();
      }
    }
    return r;
  }

  /**
   * Finds the outbound SA for the inner packet at `buf[innerOffset, …)` and encapsulates it in
   * place. The caller leaves {@link MAX_ESP_HEADER} bytes before it and the largest trailer
   * (block − 1 + 2 + ICV, at most 50 bytes) after it. Returns where the ESP packet lies (a
   * reused object, valid until the next call) with the SA's spec, or undefined when no SA
   * covers the packet (counted) or the packet is malformed.
   */
  encapsulate(buf: Uint8Array, innerOffset: number, innerLength: number): Encapsulated | undefined {
    const h = this.#header;
    if (!parseInnerHeader(buf, innerOffset, innerLength, h)) {
      this.stats.noPolicy++;
      return undefined;
    }
    if (innerOffset < MAX_ESP_HEADER || innerOffset + innerLength + MAX_ESP_TRAILER > buf.length) {
      this.stats.malformed++; // no room to encapsulate in place
      return undefined;
    }
    // The newest SA whose selectors cover the packet; the index narrows the scan by destination.
    const candidates = this.#index.candidates(buf, h.dst, h.addrLength);
    for (let i = 0; i < candidates.length; i++) {
      const e = candidates[i]!;
      if (!matchesSelectors(buf, h, e.local, e.remote)) continue;
      const next = h.addrLength === 4 ? NEXT_IPV4 : NEXT_IPV6;
      const length = e.sa.encapsulate(buf, innerOffset, innerLength, next);
      if (length < 0) {
        // Sequence numbers exhausted (RFC 4303 §3.3.3): the SA is finished.
        this.#hard(e, "out");
        continue;
      }
      this.#checkBytes(e);
      const r = this.#result;
      r.spec = e.spec;
      r.offset = innerOffset - e.sa.headerLength;
      r.length = length;
      return r;
    }
    this.stats.noPolicy++;
    // Remembered (bounded) so the main thread can dial a `trap` peer for it.
    if (this.#missed.size < MAX_MISSED) {
      this.#missed.add(formatIp(buf.subarray(h.dst, h.dst + h.addrLength)));
    }
    return undefined;
  }

  /**
   * Inner destinations of outbound packets no SA covered since the last call (at most
   * {@link MAX_MISSED}); the set is emptied.
   */
  takeMissed(): string[] {
    const out = [...this.#missed];
    this.#missed.clear();
    return out;
  }

  /**
   * Raises soft events and removes hard-expired SAs by time; returns (and clears) every event
   * raised since the last call, including those from byte limits on the packet path.
   */
  expire(now: number): EspLifetimeEvent[] {
    for (const e of [...this.#inbound.values()]) this.#checkTime(e, "in", now);
    for (const e of [...this.#outbound]) this.#checkTime(e, "out", now);
    return this.#events.splice(0);
  }

  /** Counters of every SA. */
  counters(now: number): EspSaCounters[] {
    const row = (e: Entry<InboundSa | OutboundSa>, direction: "in" | "out") => ({
      spi: e.spec.spi,
      direction,
      packets: e.sa.counters.packets,
      bytes: e.sa.counters.bytes,
      replayDrops: e.sa.counters.replayDrops,
      icvFailures: e.sa.counters.icvFailures,
      policyDrops: e.sa.counters.policyDrops,
      ageSeconds: Math.floor((now - e.installedAt) / 1000),
    });
    return [
      ...[...this.#inbound.values()].map((e) => row(e, "in")),
      ...this.#outbound.map((e) => row(e, "out")),
    ];
  }

  #checkTime(e: Entry<InboundSa | OutboundSa>, dir: "in" | "out", now: number): void {
    const age = (now - e.installedAt) / 1000;
    const l = e.spec.lifetime;
    if (l.hardSeconds > 0 && age >= l.hardSeconds) this.#hard(e, dir);
    else if (l.softSeconds > 0 && age >= l.softSeconds) this.#soft(e, dir);
  }

  #checkBytes(e: Entry<InboundSa | OutboundSa>): void {
    const l = e.spec.lifetime;
    const bytes = e.sa.counters.bytes;
    if (l.hardBytes > 0 && bytes >= l.hardBytes) this.#hard(e, e.spec.direction);
    else if (l.softBytes > 0 && bytes >= l.softBytes) this.#soft(e, e.spec.direction);
  }

  #soft(e: Entry<InboundSa | OutboundSa>, direction: "in" | "out"): void {
    if (e.softSent) return;
    e.softSent = true;
    this.#events.push({ kind: "soft", spi: e.spec.spi, direction, childId: e.spec.childId });
  }

  #hard(e: Entry<InboundSa | OutboundSa>, direction: "in" | "out"): void {
    if (this.remove(e.spec.spi, direction)) {
      this.#events.push({ kind: "hard", spi: e.spec.spi, direction, childId: e.spec.childId });
    }
  }
}
