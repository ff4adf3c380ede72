/**
 * The SA database of the data path (RFC 4301 §4.4.2): inbound SAs by SPI, outbound SAs by
 * traffic selectors. Sans-I/O: it takes buffers and the current time and returns where the
 * result lies; the Worker owns fds and clocks.
 *
 * Rekeying is make-before-break: a new outbound SA for the same selectors takes over at once
 * (newest wins), while the old inbound SA keeps decapsulating until IKE deletes it or it
 * expires.
 * @module
 */

import type { AeadAlg, AeadContext } from "../crypto/types.ts";
import { AEAD_KEY_LENGTH } from "../crypto/params.ts";
import { type Decapsulated, InboundAeadSa, OutboundAeadSa } from "./esp_aead.ts";
import type { EspLifetimeEvent, EspSaCounters, EspSaSpec } from "./sa_spec.ts";
import {
  type CompiledSelector,
  compileSelectors,
  type InnerHeader,
  matchesSelectors,
  newInnerHeader,
  parseInnerHeader,
} from "./selectors.ts";

/** What the database needs from the crypto registry. */
export interface AeadFactory {
  /** A keyed AEAD context (key without salt). */
  aead(alg: AeadAlg, key: Uint8Array): AeadContext;
}

interface Entry<T extends InboundAeadSa | OutboundAeadSa> {
  readonly spec: EspSaSpec;
  readonly sa: T;
  readonly local: CompiledSelector[];
  readonly remote: CompiledSelector[];
  readonly installedAt: number;
  softSent: boolean;
}

/** Counters that belong to no SA. */
export interface SadStats {
  /** ESP packets whose SPI matched no inbound SA. */
  unknownSpi: number;
  /** Outbound packets no SA's selectors covered. */
  noPolicy: number;
  /** ESP packets too short to carry an SPI and sequence number. */
  malformed: number;
}

/**
 * The SA database. Times are milliseconds of any monotonic clock; byte limits are checked per
 * packet, time limits by {@link SaDatabase.expire}, which the Worker calls about once a second.
 */
export class SaDatabase {
  readonly #inbound = new Map<number, Entry<InboundAeadSa>>();
  #outbound: Entry<OutboundAeadSa>[] = []; // newest first
  readonly #header: InnerHeader = newInnerHeader();
  readonly #events: EspLifetimeEvent[] = [];
  /** Counters outside any SA. */
  readonly stats: SadStats = { unknownSpi: 0, noPolicy: 0, malformed: 0 };

  constructor(private readonly crypto: AeadFactory) {}

  /**
   * Installs one SA. Throws a RangeError with the reason for a spec it cannot carry (unknown
   * transform, wrong key length, bad selectors); nothing is installed then.
   */
  install(spec: EspSaSpec, now: number): void {
    if (spec.transform.kind !== "aead") {
      throw new RangeError(`SA ${hexSpi(spec.spi)}: cipher+mac transforms are not supported yet`);
    }
    const alg = spec.transform.alg;
    const keyLength = AEAD_KEY_LENGTH[alg];
    if (spec.keyMaterial.length !== keyLength + 4) {
      throw new RangeError(
        `SA ${hexSpi(spec.spi)}: ${alg} needs ${
          keyLength + 4
        } bytes of key material (key and salt)`,
      );
    }
    const local = compileSelectors(spec.localSelectors);
    const remote = compileSelectors(spec.remoteSelectors);
    const key = spec.keyMaterial.subarray(0, keyLength);
    const salt = spec.keyMaterial.subarray(keyLength);
    if (spec.direction === "in") {
      if (this.#inbound.has(spec.spi)) throw new RangeError(`SA ${hexSpi(spec.spi)}: SPI in use`);
      const sa = new InboundAeadSa(
        spec.spi,
        this.crypto.aead(alg, key),
        salt,
        spec.esn,
        spec.replayWindow,
      );
      this.#inbound.set(spec.spi, { spec, sa, local, remote, installedAt: now, softSent: false });
    } else {
      const sa = new OutboundAeadSa(spec.spi, this.crypto.aead(alg, key), salt, spec.esn);
      this.#outbound.unshift({ spec, sa, local, remote, installedAt: now, softSent: false });
    }
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
    this.#outbound[i]!.sa.dispose();
    this.#outbound.splice(i, 1);
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
    return r;
  }

  /**
   * Finds the outbound SA for the inner packet at `buf[innerOffset, …)` and encapsulates it
   * (room for the ESP header before and the trailer after is the caller's). Returns the SA's
   * spec (for its endpoints) and the ESP packet's length, or undefined when no SA covers the
   * packet (counted) or the packet is malformed.
   */
  encapsulate(
    buf: Uint8Array,
    innerOffset: number,
    innerLength: number,
  ): { spec: EspSaSpec; length: number } | undefined {
    const h = this.#header;
    if (!parseInnerHeader(buf, innerOffset, innerLength, h)) {
      this.stats.noPolicy++;
      return undefined;
    }
    for (const e of this.#outbound) {
      if (!matchesSelectors(buf, h, e.local, e.remote)) continue;
      const next = h.addrLength === 4 ? 4 : 41;
      const length = e.sa.encapsulate(buf, innerOffset, innerLength, next);
      if (length < 0) {
        // Sequence numbers exhausted (RFC 4303 §3.3.3): the SA is finished.
        this.#hard(e, "out");
        continue;
      }
      this.#checkBytes(e);
      return { spec: e.spec, length };
    }
    this.stats.noPolicy++;
    return undefined;
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
    const row = (e: Entry<InboundAeadSa | OutboundAeadSa>, direction: "in" | "out") => ({
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

  #checkTime(e: Entry<InboundAeadSa | OutboundAeadSa>, dir: "in" | "out", now: number): void {
    const age = (now - e.installedAt) / 1000;
    const l = e.spec.lifetime;
    if (l.hardSeconds > 0 && age >= l.hardSeconds) this.#hard(e, dir);
    else if (l.softSeconds > 0 && age >= l.softSeconds) this.#soft(e, dir);
  }

  #checkBytes(e: Entry<InboundAeadSa | OutboundAeadSa>): void {
    const l = e.spec.lifetime;
    const bytes = e.sa.counters.bytes;
    if (l.hardBytes > 0 && bytes >= l.hardBytes) this.#hard(e, e.spec.direction);
    else if (l.softBytes > 0 && bytes >= l.softBytes) this.#soft(e, e.spec.direction);
  }

  #soft(e: Entry<InboundAeadSa | OutboundAeadSa>, direction: "in" | "out"): void {
    if (e.softSent) return;
    e.softSent = true;
    this.#events.push({ kind: "soft", spi: e.spec.spi, direction, childId: e.spec.childId });
  }

  #hard(e: Entry<InboundAeadSa | OutboundAeadSa>, direction: "in" | "out"): void {
    if (this.remove(e.spec.spi, direction)) {
      this.#events.push({ kind: "hard", spi: e.spec.spi, direction, childId: e.spec.childId });
    }
  }
}

function hexSpi(spi: number): string {
  return `0x${(spi >>> 0).toString(16).padStart(8, "0")}`;
}
