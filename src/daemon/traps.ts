/**
 * `start_action = "trap"` on the daemon side: the trap peers' remote_ts as routes into the TUN
 * device (so their first packet reaches the data path before any SA exists), and which trap
 * peers an uncovered inner destination belongs to (the data path reports those; the dialler
 * then dials). Pure.
 * @module
 */

import type { PeerConfig } from "../config/schema.ts";
import type { TrafficSelector } from "../esp/sa_spec.ts";
import type { TrapRoute } from "../esp/datapath_types.ts";
import { configSelector, hostSelector, intersect, isTsError } from "../ike/child/ts.ts";

function selectors(p: PeerConfig): TrafficSelector[] {
  return p.remote_ts.map(configSelector).filter((s): s is TrafficSelector => !isTsError(s));
}

/** Routes for every `trap` peer's remote_ts. */
export function trapRoutes(peers: readonly PeerConfig[]): TrapRoute[] {
  return peers.filter((p) => p.start_action === "trap").map((p) => ({
    remote: p.remote,
    selectors: selectors(p),
  }));
}

/** The `trap` peers whose remote_ts covers inner destination `address`. */
export function trapPeersFor(peers: readonly PeerConfig[], address: string): string[] {
  const host = hostSelector(address);
  if (isTsError(host)) return [];
  return peers.filter((p) =>
    p.start_action === "trap" && selectors(p).some((s) => intersect(host, s) !== undefined)
  ).map((p) => p.name);
}
