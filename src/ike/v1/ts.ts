/**
 * Quick Mode client identities (IDci/IDcr) as traffic selectors: ID payload bodies of type
 * IPv4/IPv6 address, subnet and range with their protocol and port (RFC 2407 §4.6.2,
 * §4.6.2.1–§4.6.2.9) to {@link TrafficSelector} and back, the configured `local_ts`/`remote_ts`
 * as selectors, and narrowing a peer's selector to the configured ones. Pure; bad input gives a
 * {@link TsError} value, never an exception.
 * @module
 */

import { compareBytes, formatIp, parseIp, parseRange } from "../../net/addr.ts";
import type { TrafficSelector } from "../../esp/sa_spec.ts";
import { IdTypeV1 } from "../message/v1/registry.ts";
import type { IdPayloadV1 } from "../message/v1/types.ts";

/** Why an ID payload could not be used as a selector. */
export interface TsError {
  /** Discriminant. */
  readonly error: "bad-id";
  /** What was wrong, for the log. */
  readonly message: string;
}

/** A selector's address range in binary form. */
interface BinRange {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
}

const ANY_PORT = { startPort: 0, endPort: 65535 } as const;

/** RFC 2407 §4.6.2: port 0 means "any port"; IKEv1 carries a single port otherwise. */
function portsOf(port: number): { startPort: number; endPort: number } {
  return port === 0 ? ANY_PORT : { startPort: port, endPort: port };
}

function mkSelector(r: BinRange, protocol: number, port: number): TrafficSelector {
  const p = portsOf(port);
  return {
    startAddress: formatIp(r.start),
    endAddress: formatIp(r.end),
    protocol,
    startPort: p.startPort,
    endPort: p.endPort,
  };
}

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

const bad = (message: string): TsError => ({ error: "bad-id", message });

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

/** True when `x` is a {@link TsError}. */
export function isTsError(x: unknown): x is TsError {
  return typeof x === "object" && x !== null && (x as TsError).error === "bad-id";
}

function binRange(ts: TrafficSelector): BinRange | undefined {
  const start = parseIp(ts.startAddress);
  const end = parseIp(ts.endAddress);
  if (start === undefined || end === undefined || start.length !== end.length) return undefined;
  return { start, end };
}

/** The prefix length when [start, end] is exactly one CIDR block, else -1. */
function prefixOf(r: BinRange): number {
  const bits = r.start.length * 8;
  let len = 0;
  while (len < bits) {
    const i = len >> 3;
    const m = 0x80 >> (len & 7);
    if ((r.start[i]! & m) !== (r.end[i]! & m)) break;
    len++;
  }
  for (let bit = len; bit < bits; bit++) {
    const i = bit >> 3;
    const m = 0x80 >> (bit & 7);
    if ((r.start[i]! & m) !== 0 || (r.end[i]! & m) === 0) return -1;
  }
  return len;
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

/** A configured selector text ("ADDR", "ADDR/LEN", "A-B") as a selector for any protocol/port. */
export function configSelector(text: string): TrafficSelector | TsError {
  const r = parseRange(text);
  if (r === undefined) return bad(`'${text}' is not ADDR, ADDR/LEN or ADDR-ADDR`);
  return mkSelector(r, 0, 0);
}

/** A single host address as a selector (RFC 2409 §5.5: absent IDs are the Phase 1 addresses). */
export function hostSelector(address: string): TrafficSelector | TsError {
  return configSelector(address);
}

/**
 * The intersection of two selectors (addresses, protocol, ports), or undefined when they do
 * not overlap or their address families differ. Protocol 0 matches any protocol.
 */
export function intersect(a: TrafficSelector, b: TrafficSelector): TrafficSelector | undefined {
  const ra = binRange(a);
  const rb = binRange(b);
  if (ra === undefined || rb === undefined || ra.start.length !== rb.start.length) return undefined;
  if (a.protocol !== 0 && b.protocol !== 0 && a.protocol !== b.protocol) return undefined;
  const start = compareBytes(ra.start, rb.start) >= 0 ? ra.start : rb.start;
  const end = compareBytes(ra.end, rb.end) <= 0 ? ra.end : rb.end;
  if (compareBytes(start, end) > 0) return undefined;
  const startPort = Math.max(a.startPort, b.startPort);
  const endPort = Math.min(a.endPort, b.endPort);
  if (startPort > endPort) return undefined;
  return {
    startAddress: formatIp(start),
    endAddress: formatIp(end),
    protocol: a.protocol !== 0 ? a.protocol : b.protocol,
    startPort,
    endPort,
  };
}

/** True when the two selectors denote the same traffic. */
export function sameSelector(a: TrafficSelector, b: TrafficSelector): boolean {
  const ra = binRange(a);
  const rb = binRange(b);
  return ra !== undefined && rb !== undefined && ra.start.length === rb.start.length &&
    compareBytes(ra.start, rb.start) === 0 && compareBytes(ra.end, rb.end) === 0 &&
    a.protocol === b.protocol && a.startPort === b.startPort && a.endPort === b.endPort;
}

/**
 * Narrows the peer's proposed selector to our configured ones (RFC 2409 §5.5: local policy
 * decides whether client identities are acceptable): the first non-empty intersection in
 * configured order that IKEv1 can express as an ID payload. Undefined when none overlaps; the
 * caller then answers INVALID-ID-INFORMATION.
 */
export function narrow(
  proposed: TrafficSelector,
  configured: readonly TrafficSelector[],
): TrafficSelector | undefined {
  for (const c of configured) {
    const x = intersect(proposed, c);
    if (x !== undefined && !isTsError(selectorToId(x))) return x;
  }
  return undefined;
}

/** A selector as operators write it: "198.51.100.0/24", "192.0.2.1-192.0.2.9", "…[6/443]". */
export function formatSelector(ts: TrafficSelector): string {
  const r = binRange(ts);
  let text = `${ts.startAddress}-${ts.endAddress}`;
  if (r !== undefined) {
    const prefix = prefixOf(r);
    if (prefix >= 0) text = `${ts.startAddress}/${prefix}`;
  }
  const anyPort = ts.startPort === 0 && ts.endPort === 65535;
  if (ts.protocol === 0 && anyPort) return text;
  const port = anyPort
    ? ""
    : ts.startPort === ts.endPort
    ? `/${ts.startPort}`
    : `/${ts.startPort}-${ts.endPort}`;
  return `${text}[${ts.protocol}${port}]`;
}
