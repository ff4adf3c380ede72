/**
 * Messages between the main thread (src/esp/datapath.ts) and the data-path Worker
 * (src/esp/worker.ts). Plain, structured-clone-safe data; each main → Worker message is
 * followed by one signal on the shared eventfd, which wakes the Worker from `poll`.
 * @module
 */

import type { OffloadRouteView } from "../crypto/cryptodev_offload.ts";
import type { DataPathOptions, DataPathStats, TrapRoute, UdpEndpoint } from "./datapath_types.ts";
import type { EspLifetimeEvent, EspSaCounters, EspSaSpec } from "./sa_spec.ts";

/**
 * IKE datagrams posted by the Worker and not yet taken by the main thread, at most: more are
 * dropped and counted (`ikeQueueDrops`), so a flood on the NAT-T port cannot queue without
 * bound between the threads. IKE retransmits; a real peer gets through once the flood ebbs.
 */
export const IKE_IN_FLIGHT_MAX = 64;

/** Main thread → Worker. */
export type ToWorker =
  | {
    readonly t: "init";
    readonly opts: DataPathOptions;
    readonly eventFd: number;
    /** [0]: IKE datagrams the main thread has taken (see `IKE_IN_FLIGHT_MAX`). */
    readonly ikeTaken: Int32Array;
  }
  | { readonly t: "install"; readonly id: number; readonly spec: EspSaSpec }
  | {
    readonly t: "delete";
    readonly id: number;
    readonly spi: number;
    readonly direction: "in" | "out";
  }
  | { readonly t: "snapshot"; readonly id: number }
  /** The `trap` peers' remote selectors: their packets are held until an SA covers them. */
  | { readonly t: "traps"; readonly id: number; readonly traps: TrapRoute[] }
  | {
    readonly t: "ike";
    readonly data: Uint8Array;
    readonly local: UdpEndpoint;
    readonly remote: UdpEndpoint;
  }
  | { readonly t: "stop"; readonly id: number };

/** Worker → main thread. */
export type FromWorker =
  | {
    readonly t: "ready";
    readonly endpoints: UdpEndpoint[];
    readonly ikeEndpoints: UdpEndpoint[];
    readonly tunName: string;
  }
  | { readonly t: "failed"; readonly message: string }
  | { readonly t: "result"; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: "result"; readonly id: number; readonly ok: false; readonly message: string }
  | {
    readonly t: "counters";
    readonly sas: EspSaCounters[];
    readonly stats: DataPathStats;
    /** /dev/crypto offload: per offloaded algorithm, operations and failure. */
    readonly crypto?: OffloadRouteView[];
  }
  | { readonly t: "lifetime"; readonly event: EspLifetimeEvent }
  /** Inner destinations of outbound packets no SA covered (for `trap` peers). */
  | { readonly t: "missed"; readonly dsts: string[] }
  | {
    readonly t: "ike";
    readonly data: Uint8Array;
    readonly local: UdpEndpoint;
    readonly remote: UdpEndpoint;
  }
  | { readonly t: "fatal"; readonly message: string };
