/**
 * `show ike sa` rows for IKEv2 SAs. Pure.
 * @module
 */

import { hex } from "../sa.ts";
import type { IkeSaView } from "../views.ts";
import type { IkeSaV2 } from "./sa.ts";

/** One `show ike sa` row. */
export function ikeSaViewV2(sa: IkeSaV2, now: number): IkeSaView {
  const up = sa.state.kind === "established";
  const secs = (ms: number) => Math.max(0, Math.floor(ms / 1000));
  return {
    peer: sa.peerName,
    version: 2,
    state: sa.stateName,
    local: `${sa.local.address}:${sa.local.port}`,
    remote: `${sa.remote.address}:${sa.remote.port}`,
    spis: `${hex(sa.spiI)}_i ${hex(sa.spiR)}_r`,
    algorithms: up ? sa.alg.text : "",
    ageSeconds: secs(now - sa.created),
    ...(up ? { expiresSeconds: secs(sa.expiresAt - now) } : {}),
  };
}
