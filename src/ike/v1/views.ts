/**
 * `show ike sa` and `show peers` rows from the responder's state. Pure.
 * @module
 */

import type { PeerConfig } from "../../config/schema.ts";
import type { PeerStateView } from "../actions.ts";
import type { IkeSaView } from "../views.ts";
import { hex, type IkeSa } from "../sa.ts";

/** One `show ike sa` row. */
export function ikeSaView(sa: IkeSa, now: number): IkeSaView {
  const exp = sa.expires;
  return {
    peer: sa.peerName,
    version: 1,
    state: sa.state,
    local: `${sa.local.address}:${sa.local.port}`,
    remote: `${sa.remote.address}:${sa.remote.port}`,
    spis: `${hex(sa.ckyI)}_i ${hex(sa.ckyR)}_r`,
    algorithms: sa.state === "ESTABLISHED" ? sa.alg?.text ?? "" : "",
    ageSeconds: Math.max(0, Math.floor((now - sa.created) / 1000)),
    ...(exp === undefined ? {} : { expiresSeconds: Math.max(0, Math.floor((exp - now) / 1000)) }),
  };
}

/**
 * One `show peers` row: "up" with an established IKE SA and a child, "connecting" while any
 * SA exists, else "down" with the last failure.
 */
export function peerStateView(
  peer: PeerConfig,
  sas: readonly IkeSa[],
  children: number,
  lastFailure: string | undefined,
): PeerStateView {
  const mine = sas.filter((s) => s.peer?.name === peer.name);
  const up = mine.some((s) => s.state === "ESTABLISHED") && children > 0;
  return {
    name: peer.name,
    state: up ? "up" : mine.length > 0 || children > 0 ? "connecting" : "down",
    ikeSas: mine.length,
    childSas: children,
    detail: up ? "" : lastFailure ?? "",
  };
}
