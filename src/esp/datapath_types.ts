/**
 * The data path as the control plane sees it: options for `startDataPath` (src/esp/datapath.ts)
 * and the handle it returns. The packet loop runs in the main isolate or in a Worker
 * (`runner`); everything that crosses to it is plain, structured-clone-safe data.
 * @module
 */

import type { OffloadOptions } from "../crypto/cryptodev_calibrate.ts";
import type { OffloadRouteView } from "../crypto/cryptodev_offload.ts";
import type {
  EspLifetimeEvent,
  EspSaCounters,
  EspSaSpec,
  IpAddress,
  TrafficSelector,
} from "./sa_spec.ts";

/** An outer address and UDP port. */
export interface UdpEndpoint {
  /** IP address as text. */
  readonly address: IpAddress;
  /** UDP port. */
  readonly port: number;
}

/** How to start the data path. */
export interface DataPathOptions {
  /** TUN device name (1-15 characters), created if it does not exist. */
  readonly tunName: string;
  /** MTU the TUN device gets (576..9000); inner packets up to this size are carried. */
  readonly mtu: number;
  /**
   * Local outer addresses: one UDP socket on `natPort` per address ("0.0.0.0" / "::" for any
   * address of that family). IKE on port 4500 and ESP-in-UDP share these sockets (RFC 3948).
   */
  readonly listen: readonly IpAddress[];
  /** The NAT-T port (normally 4500; 0 binds a free port, for tests). */
  readonly natPort: number;
  /**
   * Also receive and send plain IKE (no Non-ESP Marker) on this port, normally 500: one UDP
   * socket per `listen` address, read with recvmmsg into the Worker's reused buffers and handed
   * on through the same bounded queue as IKE on the NAT-T port (a flood costs no memory).
   */
  readonly ikePort?: number;
  /** Also open raw IP protocol 50 sockets (IPv4 and/or IPv6 as `listen` asks) for ESP without NAT. */
  readonly rawEsp: boolean;
  /**
   * Seconds between NAT keepalives (RFC 3948 §2.3) towards the peer of every ESP-in-UDP SA
   * that sent nothing else in that time; 0 disables them. Default 20.
   */
  readonly keepaliveSeconds?: number;
  /**
   * Bring the TUN device up with `mtu` and route each outbound SA's remote selectors into it
   * while an SA for them exists. Default true; tests without root turn it off.
   */
  readonly manageRoutes?: boolean;
  /**
   * Tests only: use this already-open packet fd (e.g. one end of a datagram socketpair from
   * hw/packet_pair.ts) instead of opening `tunName`. The data path does not close it; no
   * device is brought up and no routes are set.
   */
  readonly packetFd?: number;
  /**
   * Where the packet loop runs: "main", the control plane's isolate (the default: one isolate,
   * the smallest footprint), or "worker", a Worker isolate of its own (about 25 MiB more
   * resident, a thread of its own for the packets).
   */
  readonly runner?: "main" | "worker";
  /** /dev/crypto offload for the data path's ciphers (default auto on /dev/crypto). */
  readonly crypto?: OffloadOptions;
}

/** Data-path counters that belong to no SA. */
export interface DataPathStats {
  /** Packets read from the TUN device. */
  tunIn: number;
  /** Inner packets written to the TUN device. */
  tunOut: number;
  /** ESP packets received (UDP and raw). */
  espIn: number;
  /** ESP packets sent. */
  espOut: number;
  /** IKE datagrams received on the NAT-T port (marker stripped and handed on). */
  ikeIn: number;
  /** IKE datagrams sent on the NAT-T port. */
  ikeOut: number;
  /** NAT keepalives received (ignored, RFC 3948 §2.3). */
  keepalivesIn: number;
  /** NAT keepalives sent. */
  keepalivesOut: number;
  /** Outbound packets no SA covered (RFC 4301 §5.1: discarded). */
  noPolicy: number;
  /** ESP packets for an SPI with no inbound SA. */
  unknownSpi: number;
  /** Datagrams that were neither ESP, IKE nor keepalive, or were truncated. */
  invalid: number;
  /** Packets the kernel refused to take (full queues, no route). */
  sendFailures: number;
  /** ESP-in-UDP peers that moved to a new address/port (authenticated packets only). */
  natMoves: number;
  /** IKE datagrams dropped: too many waiting for the main thread, or their source over its rate. */
  ikeQueueDrops: number;
  /** Packets for a `trap` peer held while no SA covered them (src/esp/trap_hold.ts). */
  trapHeld: number;
  /** Held packets sent once an SA covered them. */
  trapSent: number;
  /** Held packets dropped to keep the hold within its bounds. */
  trapOverflow: number;
  /** Held packets dropped because no SA covered them in time. */
  trapExpired: number;
}

/** What one counters request returns. */
export interface DataPathSnapshot {
  /** Per-SA counters. */
  readonly sas: EspSaCounters[];
  /** Counters outside any SA. */
  readonly stats: DataPathStats;
}

/**
 * Called for each IKE datagram on the NAT-T port, Non-ESP Marker already removed. `local` is
 * the address the peer sent it to (also when the socket listens on a wildcard address).
 */
export type IkePacketHandler = (
  datagram: Uint8Array,
  local: UdpEndpoint,
  remote: UdpEndpoint,
) => void;

/** A `trap` peer's remote selectors to route into the TUN device before any SA exists. */
export interface TrapRoute {
  /** The peer's outer address (prefixes containing it are not routed). */
  readonly remote: string;
  /** Its remote_ts. */
  readonly selectors: readonly TrafficSelector[];
}

/** The running data path. Every method may be called from the main thread at any time. */
export interface DataPathHandle {
  /** The bound NAT-T sockets (their real ports when `natPort` was 0). */
  readonly endpoints: readonly UdpEndpoint[];
  /** The bound plain IKE sockets (with `ikePort`; else empty). */
  readonly ikeEndpoints?: readonly UdpEndpoint[];
  /** The TUN device's name (as the kernel named it). */
  readonly tunName: string;
  /**
   * Installs one SA in the Worker (one cipher context per SA, made at install). Resolves once it
   * carries traffic; rejects with a {@link DataPathError} naming the SA when the spec is
   * unusable (unknown transform, key length, selectors, SPI in use). For outbound SAs the
   * remote selectors are routed into the TUN device (with `manageRoutes`).
   */
  installSa(spec: EspSaSpec): Promise<void>;
  /** Removes an SA; resolves false when there was none. Routes go with the last SA using them. */
  deleteSa(spi: number, direction: "in" | "out"): Promise<boolean>;
  /**
   * The latest per-SA counters, at most about one second old (the Worker pushes them); cheap
   * and synchronous for `show`.
   */
  counters(): EspSaCounters[];
  /** The latest counters outside any SA (as fresh as {@link counters}). */
  stats(): DataPathStats;
  /** /dev/crypto offload in the Worker: operations and failures per algorithm (as fresh). */
  cryptoRoutes?(): readonly OffloadRouteView[];
  /** Fresh counters, asked of the Worker now. */
  snapshot(): Promise<DataPathSnapshot>;
  /** Registers the handler of soft/hard lifetime events (hard: the SA is already gone). */
  onLifetime(cb: (event: EspLifetimeEvent) => void): void;
  /** Registers the handler of IKE datagrams arriving on the NAT-T port (RFC 3948 §2.2). */
  onIkePacket(cb: IkePacketHandler): void;
  /**
   * Registers the handler of inner destinations that outbound packets had while no SA covered
   * them (at most about once a second, a bounded list): `trap` peers are dialled for them.
   */
  onMissed?(cb: (dsts: string[]) => void): void;
  /**
   * Routes the remote selectors of `trap` peers into the TUN device while they have no SA
   * (replacing the previous set; with `manageRoutes`), so their first packet reaches us; the
   * Worker holds a few such packets per trap until an SA covers them (src/esp/trap_hold.ts).
   */
  setTrapRoutes?(traps: readonly TrapRoute[]): Promise<void>;
  /**
   * Sends an IKE message from `local` (one of {@link endpoints}; "0.0.0.0"/"::" match any) to
   * `remote` on the NAT-T port, prefixed with the Non-ESP Marker. Fire and forget: failures
   * are counted in {@link DataPathStats.sendFailures}.
   */
  sendIke(datagram: Uint8Array, local: UdpEndpoint, remote: UdpEndpoint): void;
  /** Stops the Worker, closes its sockets and the TUN device, removes the routes it added. */
  stop(): Promise<void>;
}

/** Why the data path could not start or refused a request; never carries key material. */
export class DataPathError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "DataPathError";
  }
}

/**
 * The signature of `startDataPath` in src/esp/datapath.ts: starts the Worker, opens the TUN
 * device and sockets, and resolves with the handle (rejects with a {@link DataPathError}).
 */
export type StartDataPath = (opts: DataPathOptions) => Promise<DataPathHandle>;
