/**
 * Traffic selectors shared by both IKE versions: the configured `local_ts`/`remote_ts` as
 * selectors, intersection and narrowing of a peer's selector to the configured ones (IKEv1
 * RFC 2409 §5.5, IKEv2 RFC 7296 §2.9), binary ranges and prefixes, and the operator's text form.
 * Pure; bad input gives a {@link TsError} value, never an exception. The IKEv1 ID payload forms
 * are in src/ike/v1/ts_id.ts, the IKEv2 TS payload forms in src/ike/v2/ts_payload.ts.
 * @module
 */

import { compareBytes, formatIp, parseIp, parseRange } from "../../net/addr.ts";
import type { TrafficSelector } from "../../esp/sa_spec.ts";

/** Why an ID payload could not be used as a selector. */
export interface TsError {
  /** Discriminant. */
  readonly error: "bad-id";
  /** What was wrong, for the log. */
  readonly message: string;
}

/** A selector's address range in binary form. */
export interface BinRange {
  /** First address. */
  readonly start: Uint8Array;
  /** Last address. */
  readonly end: Uint8Array;
}

/** Any port. */
const ANY_PORT = { startPort: 0, endPort: 65535 } as const;

/** RFC 2407 §4.6.2: port 0 means "any port"; IKEv1 carries a single port otherwise. */
function portsOf(port: number): { startPort: number; endPort: number } {
  return port === 0 ? ANY_PORT : { startPort: port, endPort: port };
}

/** A selector over a binary range; `port` 0 means any port (RFC 2407 §4.6.2). */
export function mkSelector(r: BinRange, protocol: number, port: number): TrafficSelector {
  const p = portsOf(port);
  return {
    startAddress: formatIp(r.start),
    endAddress: formatIp(r.end),
    protocol,
    startPort: p.startPort,
    endPort: p.endPort,
  };
}

/** A {@link TsError} with `message`. */
export const bad = (message: string): TsError => ({ error: "bad-id", message });

/** True when `x` is a {@link TsError}. */
export function isTsError(x: unknown): x is TsError {
  return typeof x === "object" && x !== null && (x as TsError).error === "bad-id";
}

/** A selector's addresses in binary form, or undefined when they do not form a range. */
export function binRange(ts: TrafficSelector): BinRange | undefined {
  const start = parseIp(ts.startAddress);
  const end = parseIp(ts.endAddress);
  if (start === undefined || end === undefined || start.length !== end.length) return undefined;
  return { start, end };
}

/** The prefix length when [start, end] is exactly one CIDR block, else -1. */
export function prefixOf(r: BinRange): number {
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
 * Narrows the peer's proposed selector to our configured ones (RFC 2409 §5.5 and RFC 7296 §2.9:
 * local policy decides): the first non-empty intersection in configured order that `usable`
 * accepts (IKEv1 can carry only what an ID payload expresses). Undefined when none overlaps.
 */
export function narrow(
  proposed: TrafficSelector,
  configured: readonly TrafficSelector[],
  usable: (ts: TrafficSelector) => boolean = () => true,
): TrafficSelector | undefined {
  for (const c of configured) {
    const x = intersect(proposed, c);
    if (x !== undefined && usable(x)) return x;
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
