/**
 * Moves packets between the TUN device and the network through the SA database, a batch at a
 * time over pooled slots: TUN → encapsulate in place → sendmmsg (UDP GSO where possible), and
 * recvmmsg → decapsulate in place → TUN. No allocation per packet (only IKE datagrams, handed
 * to the control plane, are copied). The poll loop belongs to the caller (src/esp/worker.ts).
 *
 * Outer headers are the kernel's: ESP-in-UDP over IPv4 or IPv6 (RFC 3948 §2.1) leaves through
 * the UDP socket of the SA's local address, raw ESP (RFC 4303, IP protocol 50) through the raw
 * socket of its family.
 * @module
 */

import type { BatchSocket } from "../../hw/sockaddr.ts";
import type { PacketSlots } from "../../hw/mmsg.ts";
import { DEFAULT_BATCH, HEADROOM, PacketBatch } from "./batch.ts";
import type { DataPathStats } from "./datapath_types.ts";
import type { SaDatabase } from "./sad.ts";
import type { EspLifetimeEvent, EspSaSpec } from "./sa_spec.ts";
import { hexSpi } from "./sa_factory.ts";
import { classifyPort4500, NAT_KEEPALIVE, NON_ESP_MARKER_LENGTH } from "./udp_encap.ts";
import { parseIp } from "../net/addr.ts";
import { TrapHold } from "./trap_hold.ts";

/** The TUN side: what hw/tun.ts `Tun` offers the packet path. */
export interface PacketQueue {
  /** Reads up to `max` packets into slots 0…n-1, `offset` bytes into each; returns n. */
  readBatch(slots: PacketSlots, offset: number, max: number): number;
  /** Writes `data[start, start+length)` as one packet; false when dropped. */
  writeAt(data: Uint8Array, start: number, length: number): boolean;
}

/** One network socket of the data path. */
export interface PumpSocket {
  /** The socket. */
  readonly socket: BatchSocket;
  /** UDP (NAT-T port: ESP-in-UDP, IKE, keepalives), plain IKE (port 500) or raw IP protocol 50. */
  readonly kind: "udp" | "ike" | "raw";
  /** The bound address (4 or 16 bytes; all zero for any address of the family). */
  readonly local: Uint8Array;
  /** The bound port (0 for raw). */
  readonly port: number;
}

/**
 * Called for IKE datagrams on a UDP socket, Non-ESP Marker removed (a fresh copy); `to` is the
 * address the datagram was sent to (the socket's own unless it is bound to a wildcard).
 */
export type PumpIkeHandler = (
  datagram: Uint8Array,
  socketIndex: number,
  from: Uint8Array,
  fromPort: number,
  to: Uint8Array,
) => void;

/**
 * Where an outbound SA's packets go; shared by SAs with the same outer endpoints. An
 * ESP-in-UDP target follows the peer's NAT mapping (see {@link Pump.fromSocket}).
 */
interface Target {
  key: string;
  readonly socketIndex: number;
  readonly family: 4 | 6;
  readonly address: Uint8Array; // 16 bytes, first 4 used for IPv4
  port: number;
  readonly udp: boolean;
  /** Clock of the last packet sent to it (for NAT keepalives). */
  lastSent: number;
  refs: number;
}

/** A fresh set of data-path counters. */
export function newStats(): DataPathStats {
  return {
    tunIn: 0,
    tunOut: 0,
    espIn: 0,
    espOut: 0,
    ikeIn: 0,
    ikeOut: 0,
    keepalivesIn: 0,
    keepalivesOut: 0,
    noPolicy: 0,
    unknownSpi: 0,
    invalid: 0,
    sendFailures: 0,
    natMoves: 0,
    ikeQueueDrops: 0,
    trapHeld: 0,
    trapSent: 0,
    trapOverflow: 0,
    trapExpired: 0,
  };
}

function isZero(b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One data path's packet mover. */
export class Pump {
  /** Counters outside any SA (SAD counters are folded in by {@link Pump.snapshotStats}). */
  readonly stats: DataPathStats = newStats();
  /**
   * Asked before each IKE datagram is copied out: false drops it (counted as ikeQueueDrops),
   * so a flood costs no allocation. The Worker bounds the queue to the main thread with it.
   */
  ikeGate: (from: Uint8Array, offset: number, length: number) => boolean = () => true;
  /** The caller's clock (ms), set once per loop iteration; stamps packets sent per target. */
  clock = 0;
  /** Packets for `trap` peers waiting for their SA (the Worker sets the traps). */
  readonly held: TrapHold = new TrapHold();
  readonly #tx: PacketBatch;
  readonly #rx: PacketBatch;
  readonly #maxInner: number;
  readonly #batch: number;
  readonly #targets = new Map<EspSaSpec, Target>();
  readonly #byEndpoint = new Map<string, Target>();
  readonly #byChild = new Map<string, Target>();
  readonly #used: Uint8Array;
  readonly #local = new Uint8Array(16);

  /**
   * @param sad the SA database
   * @param tun the TUN queue
   * @param sockets every network socket (index = position, used in IKE callbacks)
   * @param mtu the largest inner packet carried (the TUN MTU)
   * @param onIke IKE datagrams received on a UDP socket
   * @param batch packets per batch and system call
   */
  constructor(
    private readonly sad: SaDatabase,
    private readonly tun: PacketQueue,
    readonly sockets: readonly PumpSocket[],
    mtu: number,
    private readonly onIke: PumpIkeHandler,
    batch = DEFAULT_BATCH,
  ) {
    this.#maxInner = mtu;
    this.#batch = batch;
    this.#tx = new PacketBatch(batch, mtu);
    // Datagrams: an ESP packet around an inner packet of the MTU, plus a raw IPv4 header.
    this.#rx = new PacketBatch(batch, Math.min(mtu + 128, 65535));
    this.#used = new Uint8Array(sockets.length);
  }

  /**
   * Installs an SA in the database; for an outbound SA also finds the socket its packets leave
   * through. Throws a RangeError naming the SA when it cannot be carried (then nothing is
   * installed).
   */
  install(spec: EspSaSpec, now: number): void {
    // An SA on standby installed again without `activateOn`: it goes into service.
    if (spec.direction === "out" && spec.activateOn === undefined && this.sad.activate(spec.spi)) {
      if (this.held.size > 0) this.#sendHeld(now);
      return;
    }
    const target = spec.direction === "out" ? this.#targetFor(spec) : undefined;
    this.sad.install(spec, now);
    if (target === undefined) return;
    const shared = this.#byEndpoint.get(target.key);
    const t = shared ?? target;
    if (shared === undefined) this.#byEndpoint.set(t.key, t);
    t.refs++;
    this.#targets.set(spec, t);
    this.#byChild.set(spec.childId, t);
    // Packets held for a trap peer may have an SA now.
    if (this.held.size > 0) this.#sendHeld(now);
  }

  /** Offers the held `trap` packets to the SAs; those covered now leave, in batches. */
  #sendHeld(now: number): void {
    const b = this.#tx;
    let n = 0;
    this.#used.fill(0);
    this.held.release(now, (packet) => {
      if (packet.length > this.#maxInner) return false;
      if (n === this.#batch) {
        this.#sendSlots(n);
        n = 0;
        this.#used.fill(0);
      }
      const start = n * b.slotSize + HEADROOM;
      b.data.set(packet, start);
      b.start[n] = start;
      b.length[n] = packet.length;
      if (!this.#prepare(n)) return false;
      n++;
      return true;
    });
    if (n > 0) this.#sendSlots(n);
  }

  /** Removes an SA; false when there was none. */
  remove(spi: number, direction: "in" | "out"): boolean {
    const spec = this.sad.specs().find((s) => s.spi === spi && s.direction === direction);
    if (!this.sad.remove(spi, direction)) return false;
    if (spec !== undefined) this.#release(spec);
    return true;
  }

  /** Inner destinations no outbound SA covered since the last call (for `trap` peers). */
  takeMissed(): string[] {
    return this.sad.takeMissed();
  }

  /**
   * Runs the database's lifetime checks (RFC 4301 §4.4.2.1) and forgets the targets of SAs it
   * removed; returns the events raised since the last call.
   */
  expire(now: number): EspLifetimeEvent[] {
    this.held.expire(now);
    const events = this.sad.expire(now);
    for (const e of events) {
      if (e.kind !== "hard" || e.direction !== "out") continue;
      for (const spec of this.#targets.keys()) {
        if (spec.spi === e.spi) this.#release(spec);
      }
    }
    return events;
  }

  #release(spec: EspSaSpec): void {
    const t = this.#targets.get(spec);
    if (t === undefined) return;
    this.#targets.delete(spec);
    if (--t.refs === 0 && this.#byEndpoint.get(t.key) === t) this.#byEndpoint.delete(t.key);
    if (this.#byChild.get(spec.childId) === t) {
      const other = [...this.#targets].find(([s]) => s.childId === spec.childId);
      if (other === undefined) this.#byChild.delete(spec.childId);
      else this.#byChild.set(spec.childId, other[1]);
    }
  }

  #targetFor(spec: EspSaSpec): Target {
    const id = `SA ${hexSpi(spec.spi)}`;
    const remote = parseIp(spec.endpoints.remote);
    const local = parseIp(spec.endpoints.local);
    if (remote === undefined || local === undefined || remote.length !== local.length) {
      throw new RangeError(
        `${id}: bad outer addresses ${spec.endpoints.local} → ${spec.endpoints.remote}`,
      );
    }
    const encap = spec.endpoints.encap;
    const kind = encap === undefined ? "raw" : "udp";
    const want = (s: PumpSocket, exact: boolean) =>
      s.kind === kind && s.local.length === local.length &&
      (exact ? sameBytes(s.local, local) : isZero(s.local)) &&
      (encap === undefined || s.port === encap.localPort);
    let socketIndex = this.sockets.findIndex((s) => want(s, true));
    if (socketIndex < 0) socketIndex = this.sockets.findIndex((s) => want(s, false));
    if (socketIndex < 0) {
      throw new RangeError(
        `${id}: no ${
          kind === "udp" ? `UDP socket on port ${encap!.localPort}` : "raw ESP socket"
        }` +
          ` for local address ${spec.endpoints.local}`,
      );
    }
    const address = new Uint8Array(16);
    address.set(remote);
    const port = encap?.remotePort ?? 0;
    return {
      key: `${socketIndex}|${spec.endpoints.remote}|${port}`,
      socketIndex,
      family: remote.length === 16 ? 6 : 4,
      address,
      port,
      udp: kind === "udp",
      lastSent: this.clock,
      refs: 0,
    };
  }

  /** TUN → ESP: reads one batch, encapsulates and sends it; returns how many were read. */
  fromTun(): number {
    const b = this.#tx;
    const n = this.tun.readBatch(b, HEADROOM, this.#batch);
    if (n === 0) return 0;
    const st = this.stats;
    st.tunIn += n;
    this.#used.fill(0);
    for (let i = 0; i < n; i++) {
      const len = b.length[i]!;
      if (len > this.#maxInner) {
        st.invalid++; // larger than the MTU: no room for the trailer in this slot
        b.length[i] = -1;
        continue;
      }
      const at = b.start[i]!;
      if (!this.#prepare(i)) {
        // No SA: a `trap` peer's packet waits for its SA (src/esp/trap_hold.ts).
        if (b.length[i] === -2) this.held.keep(b.data, at, len, this.clock);
        b.length[i] = -1;
      }
    }
    this.#sendSlots(n);
    return n;
  }

  /**
   * Encapsulates the inner packet in slot `i` in place and addresses the slot; false when it
   * cannot leave (slot length −2: no SA covered it, the packet untouched; −1: no socket).
   */
  #prepare(i: number): boolean {
    const b = this.#tx;
    const r = this.sad.encapsulate(b.data, b.start[i]!, b.length[i]!);
    if (r === undefined) {
      b.length[i] = -2;
      return false;
    }
    const t = this.#targets.get(r.spec);
    if (t === undefined) {
      b.length[i] = -1;
      this.stats.sendFailures++;
      return false;
    }
    t.lastSent = this.clock;
    b.start[i] = r.offset;
    b.length[i] = r.length;
    b.family[i] = t.family;
    b.port[i] = t.port;
    b.tag[i] = t.socketIndex;
    b.address.set(t.address, i * 16);
    this.#used[t.socketIndex] = 1;
    return true;
  }

  /** Sends slots 0…n-1 (those with a length ≥ 0) on the sockets they are tagged with. */
  #sendSlots(n: number): void {
    const st = this.stats;
    const used = this.#used;
    for (let s = 0; s < used.length; s++) {
      if (used[s] === 0) continue;
      const r = this.sockets[s]!.socket.sendBatch(this.#tx, s, n);
      st.espOut += r.sent;
      st.sendFailures += r.failed;
    }
  }

  /** Network → TUN: receives one batch on socket `index`; returns how many datagrams. */
  fromSocket(index: number): number {
    const ps = this.sockets[index]!;
    const b = this.#rx;
    const n = ps.socket.recvBatch(b, 0, this.#batch);
    const st = this.stats;
    for (let i = 0; i < n; i++) {
      const len = b.length[i]!;
      const at = b.start[i]!;
      if (len <= 0) {
        st.invalid++; // truncated, or a raw packet with a bad outer header
        continue;
      }
      if (ps.kind === "raw") {
        this.#deliver(at, len);
        continue;
      }
      if (ps.kind === "ike") {
        this.#ike(index, i, at, len, 0);
        continue;
      }
      switch (classifyPort4500(b.data, at, len)) {
        case "esp":
          if (this.#deliver(at, len)) this.#followMapping(index, i);
          break;
        case "ike":
          this.#ike(index, i, at, len, NON_ESP_MARKER_LENGTH);
          break;
        case "keepalive":
          st.keepalivesIn++;
          break;
        default:
          st.invalid++;
      }
    }
    return n;
  }

  /** Hands datagram `i` of socket `index` (after `skip` marker bytes) to the IKE handler. */
  #ike(index: number, i: number, at: number, len: number, skip: number): void {
    this.stats.ikeIn++;
    const b = this.#rx;
    if (!this.ikeGate(b.address, i * 16, b.family[i] === 6 ? 16 : 4)) {
      this.stats.ikeQueueDrops++;
      return;
    }
    const ps = this.sockets[index]!;
    const from = b.address.slice(i * 16, i * 16 + (b.family[i] === 6 ? 16 : 4));
    const toLength = ps.socket.localAddress(b, i, this.#local);
    const to = toLength > 0 ? this.#local.slice(0, toLength) : ps.local.slice();
    this.onIke(b.data.slice(at + skip, at + len), index, from, b.port[i]!, to);
  }

  /** Decapsulates and writes to the TUN; true when the packet authenticated and was new. */
  #deliver(at: number, len: number): boolean {
    const st = this.stats;
    st.espIn++;
    const b = this.#rx;
    const r = this.sad.decapsulate(b.data, at, len);
    if (r === undefined) return false;
    if (this.tun.writeAt(b.data, r.offset, r.length)) st.tunOut++;
    else st.sendFailures++;
    return true;
  }

  /**
   * RFC 3948 §2.2 / RFC 3947 §4: an ESP-in-UDP packet whose ICV verified and whose sequence
   * number passed the replay window, arriving from a new address or port, moves its child's
   * outbound target there (the peer's NAT mapping changed). Called only after
   * {@link Pump.#deliver} accepted datagram `i` of socket `index`: forged or replayed packets
   * never get here.
   */
  #followMapping(index: number, i: number): void {
    const spec = this.sad.lastInbound;
    const t = spec === undefined ? undefined : this.#byChild.get(spec.childId);
    if (t === undefined || !t.udp || t.socketIndex !== index) return;
    const b = this.#rx;
    const family = b.family[i] === 6 ? 6 : 4;
    if (family !== t.family) return;
    const n = family === 6 ? 16 : 4;
    const from = b.address.subarray(i * 16, i * 16 + n);
    const port = b.port[i]!;
    if (port === t.port && sameBytes(from, t.address.subarray(0, n))) return;
    if (this.#byEndpoint.get(t.key) === t) this.#byEndpoint.delete(t.key);
    t.address.set(from);
    t.port = port;
    t.key = `${index}|${[...from].join(".")}|${port}`;
    if (!this.#byEndpoint.has(t.key)) this.#byEndpoint.set(t.key, t);
    this.stats.natMoves++;
  }

  /**
   * Sends a NAT keepalive (RFC 3948 §2.3) to every ESP-in-UDP peer nothing was sent to for
   * `intervalMs`; returns how many were sent.
   */
  keepalives(now: number, intervalMs: number): number {
    let sent = 0;
    for (const t of this.#byEndpoint.values()) {
      if (!t.udp || now - t.lastSent < intervalMs) continue;
      t.lastSent = now;
      const address = t.address.subarray(0, t.family === 6 ? 16 : 4);
      if (this.sockets[t.socketIndex]!.socket.sendTo(NAT_KEEPALIVE, address, t.port)) sent++;
      else this.stats.sendFailures++;
    }
    this.stats.keepalivesOut += sent;
    return sent;
  }

  /** Counters with the SA database's own (no policy, unknown SPI, malformed) folded in. */
  snapshotStats(): DataPathStats {
    const s = this.sad.stats;
    const h = this.held.stats;
    return {
      ...this.stats,
      noPolicy: s.noPolicy,
      unknownSpi: s.unknownSpi,
      invalid: this.stats.invalid + s.malformed,
      trapHeld: h.held,
      trapSent: h.sent,
      trapOverflow: h.overflow,
      trapExpired: h.expired,
    };
  }
}
