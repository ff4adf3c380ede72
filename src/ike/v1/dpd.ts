/**
 * Our side of Dead Peer Detection (RFC 3706 §5): only for peers that announced DPD, only while
 * the peer is idle (no authenticated message for dpd_delay), one R-U-THERE per dpd_delay with
 * increasing sequence numbers; after dpd_timeout of silence with a probe outstanding the peer
 * is dead. Pure decisions; the dispatcher sends and deletes.
 * @module
 */

import { u32 } from "../../crypto/kdf/primitives.ts";
import { DoiV1, NotifyTypeV1, ProtocolV1 } from "../message/v1/registry.ts";
import type { NotifyPayloadV1 } from "../message/v1/types.ts";
import type { IkeSa } from "../sa.ts";
import { cookiePair } from "./informational.ts";

/** What DPD asks for now on an established SA. */
export type DpdStep = "dead" | "probe" | undefined;

/** The DPD decision for `sa` at `now`. */
export function dpdStep(sa: IkeSa, now: number): DpdStep {
  const peer = sa.peer;
  if (peer === undefined || !sa.dpd.supported || peer.dpd_delay === 0) return undefined;
  if (
    sa.dpd.pendingSeq !== undefined && peer.dpd_timeout > 0 &&
    now - sa.lastSeen >= peer.dpd_timeout * 1000
  ) return "dead";
  const delay = peer.dpd_delay * 1000;
  if (now - sa.lastSeen < delay || now - sa.dpd.lastProbe < delay) return undefined;
  return "probe";
}

/** Records a new probe on `sa` and returns its R-U-THERE notification. */
export function startProbe(sa: IkeSa, now: number): NotifyPayloadV1 {
  const seq = sa.dpd.ourSeq;
  sa.dpd.ourSeq = (seq + 1) >>> 0 || 1;
  sa.dpd.pendingSeq = seq;
  sa.dpd.lastProbe = now;
  return {
    kind: "n",
    doi: DoiV1.IPSEC,
    protocol: ProtocolV1.ISAKMP,
    spi: cookiePair(sa),
    notifyType: NotifyTypeV1.R_U_THERE,
    data: u32(seq),
  };
}

/** When DPD next needs a tick for `sa`, if ever. */
export function dpdDeadline(sa: IkeSa): number | undefined {
  const p = sa.peer;
  if (p === undefined || !sa.dpd.supported || p.dpd_delay === 0) return undefined;
  const probe = Math.max(sa.lastSeen, sa.dpd.lastProbe) + p.dpd_delay * 1000;
  if (sa.dpd.pendingSeq !== undefined && p.dpd_timeout > 0) {
    return Math.min(probe, sa.lastSeen + p.dpd_timeout * 1000);
  }
  return probe;
}
