/**
 * The packet engine of one data path, whichever thread runs it: the crypto registry it keys
 * its SAs from, the TUN queue and sockets (src/esp/worker_io.ts), the SA database and the
 * {@link Pump}, IKE admission (src/esp/ike_gate.ts), sending IKE, and the once-a-second
 * housekeeping (lifetimes, trap reports, NAT keepalives). The poll loop around it is the
 * runner's: the data-path Worker (src/esp/worker.ts) or the main isolate
 * (src/esp/inline_link.ts).
 * @module
 */

import { buildCrypto, DEFAULT_ALGORITHMS } from "../crypto/registry.ts";
import type { OffloadStatus } from "../crypto/cryptodev_calibrate.ts";
import { type OffloadRouteView, routeViews } from "../crypto/cryptodev_offload.ts";
import { formatIp, parseIp } from "../net/addr.ts";
import type {
  DataPathOptions,
  DataPathSnapshot,
  TrapRoute,
  UdpEndpoint,
} from "./datapath_types.ts";
import { IkeSourceLimiter } from "./ike_gate.ts";
import { Pump } from "./pump.ts";
import { SaDatabase } from "./sad.ts";
import type { EspLifetimeEvent, EspSaSpec } from "./sa_spec.ts";
import { checkOptions, openWorkerIo, type WorkerIo } from "./worker_io.ts";

/** Housekeeping (lifetimes, keepalives, counters) at least this often, ms. */
export const TICK_MS = 1000;

/** The algorithms ESP uses: tested at start, the software backend loaded only if one fails. */
const ESP_ALGORITHMS = DEFAULT_ALGORITHMS.filter((a) =>
  a.startsWith("aead:") || a.startsWith("cipher:") || a.startsWith("mac:")
);

/** Where the engine reports what it sees. */
export interface CoreEvents {
  /** An admitted IKE datagram (marker removed, a fresh copy the receiver may keep). */
  ike(data: Uint8Array, local: UdpEndpoint, remote: UdpEndpoint): void;
  /** A soft or hard lifetime event (hard: the SA is already gone). */
  lifetime(event: EspLifetimeEvent): void;
  /** Inner destinations no SA covered since the last report. */
  missed(dsts: string[]): void;
}

/** One data path's engine; {@link DataPathCore.open} builds it. */
export class DataPathCore {
  /**
   * Extra admission test for IKE datagrams, asked after the per-source rate (the Worker bounds
   * the datagrams in flight to the main thread with it).
   */
  admitIke: () => boolean = () => true;
  /** Milliseconds between keepalives (0: none). */
  readonly keepaliveMs: number;
  /** Milliseconds between housekeeping rounds. */
  readonly tickMs: number;

  private constructor(
    readonly io: WorkerIo,
    readonly pump: Pump,
    private readonly sad: SaDatabase,
    private readonly offload: OffloadStatus["routes"] | undefined,
    keepaliveSeconds: number,
    private readonly events: CoreEvents,
  ) {
    this.keepaliveMs = keepaliveSeconds * 1000;
    this.tickMs = this.keepaliveMs > 0 ? Math.min(TICK_MS, this.keepaliveMs / 2) : TICK_MS;
  }

  /**
   * Checks the options, keys a crypto registry for ESP (with the /dev/crypto offload they ask
   * for), opens the TUN queue and sockets; throws (a DataPathError for bad options or fds)
   * after closing whatever it opened.
   */
  static async open(opts: DataPathOptions, events: CoreEvents): Promise<DataPathCore> {
    checkOptions(opts);
    const crypto = await buildCrypto({
      needed: ESP_ALGORITHMS,
      ...(opts.crypto !== undefined ? { offload: opts.crypto } : {}),
    });
    const io = openWorkerIo(opts);
    const sad = new SaDatabase(crypto);
    const sockets = io.sockets;
    let pump: Pump;
    try {
      pump = new Pump(sad, io.tun, sockets, opts.mtu, (data, index, from, fromPort, to) => {
        const s = sockets[index]!;
        events.ike(data, { address: formatIp(to), port: s.port }, {
          address: formatIp(from),
          port: fromPort,
        });
      });
    } catch (e) {
      io.close();
      throw e;
    }
    const keepalive = opts.keepaliveSeconds ?? 20;
    const core = new DataPathCore(io, pump, sad, crypto.offload?.routes, keepalive, events);
    const sources = new IkeSourceLimiter();
    pump.ikeGate = (from, offset, length) =>
      core.admitIke() && sources.take(from, offset, length, pump.clock);
    return core;
  }

  /** The fds to poll for reading: the TUN queue first, then every socket in pump order. */
  fds(): number[] {
    return [this.io.tun.fd, ...this.pump.sockets.map((s) => s.socket.fd)];
  }

  /** Installs an SA (see {@link Pump.install}); throws a RangeError naming the SA. */
  install(spec: EspSaSpec, now: number): void {
    this.pump.install(spec, now);
  }

  /** The `trap` peers' selectors: their packets wait for an SA (src/esp/trap_hold.ts). */
  setTraps(traps: readonly TrapRoute[]): void {
    this.pump.held.setTraps(traps.map((t) => t.selectors));
  }

  /** Removes an SA; false when there was none. */
  remove(spi: number, direction: "in" | "out"): boolean {
    return this.pump.remove(spi, direction);
  }

  /** Per-SA counters and the data path's own, now. */
  snapshot(now: number): DataPathSnapshot {
    return { sas: this.sad.counters(now), stats: this.pump.snapshotStats() };
  }

  /** /dev/crypto offload per algorithm (operations, failures). */
  cryptoRoutes(): OffloadRouteView[] {
    return routeViews(this.offload);
  }

  /** Sends an IKE message from the UDP socket of `local` (exact address, else the wildcard). */
  sendIke(data: Uint8Array, localEp: UdpEndpoint, remoteEp: UdpEndpoint): void {
    const p = this.pump;
    const local = parseIp(localEp.address);
    const remote = parseIp(remoteEp.address);
    // Plain IKE sockets for their own port (500); the NAT-T sockets otherwise.
    const plain = p.sockets.some((s) => s.kind === "ike" && s.port === localEp.port);
    const kind = plain ? "ike" : "udp";
    const pick = (exact: boolean) =>
      p.sockets.findIndex((s) =>
        s.kind === kind && local !== undefined && s.local.length === local.length &&
        (localEp.port === 0 || s.port === localEp.port) &&
        (exact ? s.local.every((b, i) => b === local[i]) : s.local.every((b) => b === 0))
      );
    let i = pick(true);
    if (i < 0) i = pick(false);
    if (i < 0 || remote === undefined || remote.length !== local!.length) {
      p.stats.sendFailures++;
      return;
    }
    const skip = plain ? 0 : 4; // Non-ESP Marker on the NAT-T port (RFC 3948 §2.2)
    const datagram = new Uint8Array(skip + data.length);
    datagram.set(data, skip);
    if (p.sockets[i]!.socket.sendTo(datagram, remote, remoteEp.port)) p.stats.ikeOut++;
    else p.stats.sendFailures++;
  }

  /**
   * Reads what is waiting: one batch from the TUN queue when `ready(0)`, one from socket `i`
   * when `ready(i + 1)` (indices as in {@link fds}). True when traffic moved (packets from the
   * TUN device or ESP in); IKE datagrams, keepalives and junk alone are not traffic.
   */
  drain(ready: (i: number) => boolean, now: number): boolean {
    const p = this.pump;
    p.clock = now;
    const st = p.stats;
    const before = st.tunIn + st.espIn;
    if (ready(0)) p.fromTun();
    const n = p.sockets.length;
    for (let i = 0; i < n; i++) if (ready(i + 1)) p.fromSocket(i);
    return st.tunIn + st.espIn !== before;
  }

  /** Lifetimes (RFC 4301 §4.4.2.1), trap reports and NAT keepalives (RFC 3948 §2.3). */
  housekeeping(now: number): void {
    const p = this.pump;
    const ev = this.events;
    for (const event of p.expire(now)) ev.lifetime(event);
    const missed = p.takeMissed();
    if (missed.length > 0) ev.missed(missed);
    if (this.keepaliveMs > 0) p.keepalives(now, this.keepaliveMs);
  }

  /** Closes the TUN queue and sockets (a test's packet fd stays open). */
  close(): void {
    this.io.close();
  }
}
