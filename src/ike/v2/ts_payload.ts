/**
 * IKEv2 traffic selector payloads (RFC 7296 §3.13.1) to and from the shared
 * {@link TrafficSelector}, and narrowing of the peer's proposed selectors to the configured
 * ones (§2.9): every non-empty intersection is kept, none means TS_UNACCEPTABLE. Pure.
 * @module
 */

import type { TrafficSelector } from "../../esp/sa_spec.ts";
import { formatIp, parseIp } from "../../net/addr.ts";
import { intersect, sameSelector } from "../child/ts.ts";
import { TsTypeV2 } from "../message/v2/registry.ts";
import type { IpTrafficSelectorV2, TrafficSelectorV2 } from "../message/v2/types.ts";

/** A selector from the wire, or undefined for a type or shape we cannot use. */
export function fromTsV2(ts: TrafficSelectorV2): TrafficSelector | undefined {
  if (!("start" in ts)) return undefined;
  const n = ts.tsType === TsTypeV2.IPV4_ADDR_RANGE
    ? 4
    : ts.tsType === TsTypeV2.IPV6_ADDR_RANGE
    ? 16
    : 0;
  if (n === 0 || ts.start.length !== n || ts.end.length !== n) return undefined;
  if (ts.startPort > ts.endPort) return undefined;
  return {
    startAddress: formatIp(ts.start),
    endAddress: formatIp(ts.end),
    protocol: ts.protocol,
    startPort: ts.startPort,
    endPort: ts.endPort,
  };
}

/** A selector for the wire. */
export function toTsV2(ts: TrafficSelector): IpTrafficSelectorV2 {
  const start = parseIp(ts.startAddress)!;
  const end = parseIp(ts.endAddress)!;
  return {
    tsType: start.length === 4 ? TsTypeV2.IPV4_ADDR_RANGE : TsTypeV2.IPV6_ADDR_RANGE,
    protocol: ts.protocol,
    startPort: ts.startPort,
    endPort: ts.endPort,
    start,
    end,
  };
}

/**
 * RFC 7296 §2.9: the responder narrows the proposed selectors to a subset of its policy. Every
 * intersection of a proposed selector with a configured one, without repeats, in proposed
 * order; empty when nothing overlaps (the caller answers TS_UNACCEPTABLE).
 */
export function narrowAll(
  proposed: readonly TrafficSelectorV2[],
  configured: readonly TrafficSelector[],
): TrafficSelector[] {
  const out: TrafficSelector[] = [];
  for (const p of proposed) {
    const ts = fromTsV2(p);
    if (ts === undefined) continue;
    for (const c of configured) {
      const x = intersect(ts, c);
      if (x !== undefined && !out.some((o) => sameSelector(o, x))) out.push(x);
    }
  }
  return out;
}
