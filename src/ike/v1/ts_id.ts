/**
 * Quick Mode client identities (IDci/IDcr) as traffic selectors: ID payload bodies of type
 * IPv4/IPv6 address, subnet and range with their protocol and port (RFC 2407 §4.6.2,
 * §4.6.2.1–§4.6.2.9) to {@link TrafficSelector} and back, and narrowing to what an ID payload
 * can carry. Pure; bad input gives a {@link TsError} value, never an exception.
 * @module
 */

import { compareBytes } from "../../net/addr.ts";
import type { TrafficSelector } from "../../esp/sa_spec.ts";
import { IdTypeV1 } from "../message/v1/registry.ts";
import type { IdPayloadV1 } from "../message/v1/types.ts";
import {
  bad,
  type BinRange,
  binRange,
  isTsError,
  mkSelector,
  narrow,
  prefixOf,
  type TsError,
} from "../child/ts.ts";

/** The prefix length of a contiguous netmask, or -1 when the mask has holes. */
function maskLength(mask: Uint8Array): number {
  let len = 0;
  let ended = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const set = ((byte >> bit) & 1) === 1;
      if (set && ended) return -1;
      if (set) len++;
      else ended = true;
    }
  }
  return len;
}

function applyMask(addr: Uint8Array, mask: Uint8Array): BinRange {
  const start = addr.map((b, i) => b & mask[i]!);
  const end = addr.map((b, i) => (b & mask[i]!) | (~mask[i]! & 0xff));
  return { start, end };
}

/**
 * An ID payload (IDci or IDcr) as a traffic selector: ID_IPV4_ADDR / ID_IPV6_ADDR (4/16 octets,
 * RFC 2407 §4.6.2.2, §4.6.2.6), ID_IPV4/6_ADDR_SUBNET (address then contiguous mask, §4.6.2.5,
 * §4.6.2.7) and ID_IPV4/6_ADDR_RANGE (first then last address, §4.6.2.8, §4.6.2.9). Other ID
 * types cannot name traffic.
 */
export function idToSelector(id: IdPayloadV1): TrafficSelector | TsError {
  const d = id.data;
  const len = (n: number, what: string) =>
    d.length === n ? undefined : bad(`${what} ID of ${d.length} octets, expected ${n}`);
  switch (id.idType) {
    case IdTypeV1.IPV4_ADDR:
    case IdTypeV1.IPV6_ADDR: {
      const n = id.idType === IdTypeV1.IPV4_ADDR ? 4 : 16;
      const e = len(n, "address");
      if (e !== undefined) return e;
      return mkSelector({ start: d.slice(), end: d.slice() }, id.protocol, id.port);
    }
    case IdTypeV1.IPV4_ADDR_SUBNET:
    case IdTypeV1.IPV6_ADDR_SUBNET: {
      const n = id.idType === IdTypeV1.IPV4_ADDR_SUBNET ? 4 : 16;
      const e = len(2 * n, "subnet");
      if (e !== undefined) return e;
      const mask = d.subarray(n, 2 * n);
      if (maskLength(mask) < 0) return bad("subnet mask is not contiguous");
      return mkSelector(applyMask(d.subarray(0, n), mask), id.protocol, id.port);
    }
    case IdTypeV1.IPV4_ADDR_RANGE:
    case IdTypeV1.IPV6_ADDR_RANGE: {
      const n = id.idType === IdTypeV1.IPV4_ADDR_RANGE ? 4 : 16;
      const e = len(2 * n, "range");
      if (e !== undefined) return e;
      const start = d.slice(0, n);
      const end = d.slice(n, 2 * n);
      if (compareBytes(start, end) > 0) return bad("range ends before it starts");
      return mkSelector({ start, end }, id.protocol, id.port);
    }
    default:
      return bad(`ID type ${id.idType} does not name addresses`);
  }
}

/**
 * The ID payload for a selector (RFC 2407 §4.6.2): one address as ID_IPVx_ADDR, a CIDR block as
 * ID_IPVx_ADDR_SUBNET, anything else as ID_IPVx_ADDR_RANGE. IKEv1 carries one port: a selector
 * with a port range other than one port or any cannot be expressed (error).
 */
export function selectorToId(ts: TrafficSelector): IdPayloadV1 | TsError {
  const r = binRange(ts);
  if (r === undefined) return bad(`selector ${ts.startAddress}-${ts.endAddress} is not a range`);
  let port: number;
  if (ts.startPort === 0 && ts.endPort === 65535) port = 0;
  else if (ts.startPort === ts.endPort) port = ts.startPort;
  else return bad(`port range ${ts.startPort}-${ts.endPort} has no IKEv1 ID form`);
  const v4 = r.start.length === 4;
  const bits = r.start.length * 8;
  const prefix = prefixOf(r);
  const out = (idType: number, data: Uint8Array): IdPayloadV1 => ({
    kind: "id",
    idType,
    protocol: ts.protocol,
    port,
    data,
  });
  if (prefix === bits) return out(v4 ? IdTypeV1.IPV4_ADDR : IdTypeV1.IPV6_ADDR, r.start);
  const data = new Uint8Array(2 * r.start.length);
  data.set(r.start, 0);
  if (prefix >= 0) {
    const mask = new Uint8Array(r.start.length);
    for (let bit = 0; bit < prefix; bit++) mask[bit >> 3] = mask[bit >> 3]! | (0x80 >> (bit & 7));
    data.set(mask, r.start.length);
    return out(v4 ? IdTypeV1.IPV4_ADDR_SUBNET : IdTypeV1.IPV6_ADDR_SUBNET, data);
  }
  data.set(r.end, r.start.length);
  return out(v4 ? IdTypeV1.IPV4_ADDR_RANGE : IdTypeV1.IPV6_ADDR_RANGE, data);
}

/**
 * Narrows the peer's proposed selector to our configured ones (RFC 2409 §5.5): the first
 * non-empty intersection that IKEv1 can express as an ID payload. Undefined when none overlaps;
 * the caller then answers INVALID-ID-INFORMATION.
 */
export function narrowV1(
  proposed: TrafficSelector,
  configured: readonly TrafficSelector[],
): TrafficSelector | undefined {
  return narrow(proposed, configured, (x) => !isTsError(selectorToId(x)));
}
