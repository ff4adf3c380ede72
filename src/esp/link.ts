/**
 * What the data-path handle (src/esp/datapath.ts) needs from whichever runner carries the
 * packets: the Worker (src/esp/worker_link.ts) or the main isolate (src/esp/inline_link.ts).
 * @module
 */

import type { OffloadRouteView } from "../crypto/cryptodev_offload.ts";
import type { DataPathStats, TrapRoute, UdpEndpoint } from "./datapath_types.ts";
import type { CoreEvents } from "./core.ts";
import type { EspSaCounters, EspSaSpec } from "./sa_spec.ts";

/** A started runner. */
export interface DataPathLink {
  /** The bound NAT-T sockets. */
  readonly endpoints: UdpEndpoint[];
  /** The bound plain IKE sockets. */
  readonly ikeEndpoints: UdpEndpoint[];
  /** The TUN device's name. */
  readonly tunName: string;
  /** Installs an SA; rejects with a DataPathError naming it. */
  install(spec: EspSaSpec): Promise<void>;
  /** Removes an SA; false when there was none. */
  remove(spi: number, direction: "in" | "out"): Promise<boolean>;
  /** Per-SA counters, at most about a second old. */
  sas(): EspSaCounters[];
  /** Counters outside any SA, as fresh. */
  stats(): DataPathStats;
  /** /dev/crypto offload per algorithm, as fresh. */
  crypto(): OffloadRouteView[];
  /** Brings {@link sas} and {@link stats} up to date. */
  refresh(): Promise<void>;
  /** The `trap` peers' selectors: their packets are held until an SA covers them. */
  setTraps(traps: readonly TrapRoute[]): Promise<void>;
  /** Sends an IKE message (fire and forget). */
  sendIke(datagram: Uint8Array, local: UdpEndpoint, remote: UdpEndpoint): void;
  /** Stops the packet loop and closes the fds. */
  stop(): Promise<void>;
}

/** Starts a runner that reports to `events`; rejects with a DataPathError. */
export type StartLink = (
  opts: import("./datapath_types.ts").DataPathOptions,
  events: CoreEvents,
  warn: (message: string) => void,
) => Promise<DataPathLink>;
