/**
 * Traffic selectors compiled for the packet path, and the match of an inner IP packet against
 * them (RFC 4301 §4.4.1.1, §5.2: after decapsulation the inner packet must match the SA's
 * selectors, else it is dropped). Reads the packet in place; no allocation per packet.
 *
 * Ports are only known for TCP, UDP and SCTP in unfragmented (or first-fragment) packets; when
 * they are not available the packet matches only selectors whose port range is ANY (0-65535),
 * the OPAQUE rule of RFC 4301 §4.4.1.1.
 * @module
 */

import { parseIp } from "../net/addr.ts";
import type { TrafficSelector } from "./sa_spec.ts";

/** A selector in binary form. */
export interface CompiledSelector {
  /** 4 or 16. */
  readonly addrLength: number;
  /** First address (network order). */
  readonly start: Uint8Array;
  /** Last address (network order). */
  readonly end: Uint8Array;
  /** IP protocol, 0 = any. */
  readonly protocol: number;
  /** First port. */
  readonly startPort: number;
  /** Last port. */
  readonly endPort: number;
}

/** Compiled selectors kept for reuse, at most this many (the oldest forgotten first). */
const MAX_SHARED = 256;
const shared = new Map<string, CompiledSelector>();

/**
 * Compiles selectors; throws a RangeError naming the selector when an address is invalid.
 * Compiled selectors are immutable and shared: the SAs of one child (both directions) and every
 * SA with the same local subnet get the same object, not a copy each (a few hundred bytes per
 * SA). The sharing table is bounded; an SA keeps its objects after they leave the table.
 */
export function compileSelectors(list: readonly TrafficSelector[]): CompiledSelector[] {
  return list.map((ts) => {
    const key = `${ts.startAddress}-${ts.endAddress}|${ts.protocol}|${ts.startPort}-${ts.endPort}`;
    const known = shared.get(key);
    if (known !== undefined) return known;
    const first = parseIp(ts.startAddress);
    const last = parseIp(ts.endAddress);
    if (first === undefined || last === undefined || first.length !== last.length) {
      throw new RangeError(`bad traffic selector ${ts.startAddress}-${ts.endAddress}`);
    }
    // Both addresses in one buffer: an ArrayBuffer costs more than its few bytes.
    const n = first.length;
    const both = new Uint8Array(2 * n);
    both.set(first);
    both.set(last, n);
    const compiled: CompiledSelector = {
      addrLength: n,
      start: both.subarray(0, n),
      end: both.subarray(n),
      protocol: ts.protocol,
      startPort: ts.startPort,
      endPort: ts.endPort,
    };
    if (shared.size >= MAX_SHARED) shared.delete(shared.keys().next().value!);
    shared.set(key, compiled);
    return compiled;
  });
}

/** The fields of an inner packet that selectors look at (a reused object). */
export interface InnerHeader {
  /** 4 or 16. */
  addrLength: number;
  /** Offset of the source address in the buffer. */
  src: number;
  /** Offset of the destination address in the buffer. */
  dst: number;
  /** Transport protocol. */
  protocol: number;
  /** Source port, or -1 when unknown. */
  srcPort: number;
  /** Destination port, or -1 when unknown. */
  dstPort: number;
}

/** A fresh header object for {@link parseInnerHeader} to fill (one per data path, reused). */
export function newInnerHeader(): InnerHeader {
  return { addrLength: 0, src: 0, dst: 0, protocol: 0, srcPort: 0, dstPort: 0 };
}

const PORT_PROTOCOLS = new Set([6, 17, 132]); // TCP, UDP, SCTP

/**
 * Parses the IPv4 or IPv6 header of `buf[offset, offset+length)` into `out`; false when the
 * packet is malformed (bad version, header length, or total length beyond the data).
 */
export function parseInnerHeader(
  buf: Uint8Array,
  offset: number,
  length: number,
  out: InnerHeader,
): boolean {
  if (length < 20 || offset < 0 || offset + length > buf.length) return false;
  const version = buf[offset]! >> 4;
  let transport: number;
  let fragmentOffset = 0;
  if (version === 4) {
    const ihl = (buf[offset]! & 0x0f) * 4; // RFC 791 §3.1
    const total = (buf[offset + 2]! << 8) | buf[offset + 3]!;
    if (ihl < 20 || total < ihl || total > length) return false;
    out.addrLength = 4;
    out.src = offset + 12;
    out.dst = offset + 16;
    out.protocol = buf[offset + 9]!;
    fragmentOffset = ((buf[offset + 6]! & 0x1f) << 8) | buf[offset + 7]!;
    transport = offset + ihl;
    length = total;
  } else if (version === 6) {
    const payload = (buf[offset + 4]! << 8) | buf[offset + 5]!; // RFC 8200 §3
    if (length < 40 || 40 + payload > length) return false;
    out.addrLength = 16;
    out.src = offset + 8;
    out.dst = offset + 24;
    out.protocol = buf[offset + 6]!; // extension headers make ports unknown (OPAQUE)
    transport = offset + 40;
    length = 40 + payload;
  } else {
    return false;
  }
  const havePorts = PORT_PROTOCOLS.has(out.protocol) && fragmentOffset === 0 &&
    transport + 4 <= offset + length;
  out.srcPort = havePorts ? (buf[transport]! << 8) | buf[transport + 1]! : -1;
  out.dstPort = havePorts ? (buf[transport + 2]! << 8) | buf[transport + 3]! : -1;
  return true;
}

function inRange(buf: Uint8Array, at: number, s: CompiledSelector): boolean {
  let lowOk = false; // already strictly above start
  let highOk = false; // already strictly below end
  for (let i = 0; i < s.addrLength; i++) {
    const b = buf[at + i]!;
    if (!lowOk) {
      if (b < s.start[i]!) return false;
      if (b > s.start[i]!) lowOk = true;
    }
    if (!highOk) {
      if (b > s.end[i]!) return false;
      if (b < s.end[i]!) highOk = true;
    }
    if (lowOk && highOk) return true;
  }
  return true;
}

function portOk(port: number, s: CompiledSelector): boolean {
  if (s.startPort === 0 && s.endPort === 65535) return true; // ANY includes OPAQUE
  return port >= 0 && port >= s.startPort && port <= s.endPort;
}

function matchesOne(
  buf: Uint8Array,
  h: InnerHeader,
  addrAt: number,
  port: number,
  list: readonly CompiledSelector[],
): boolean {
  for (const s of list) {
    if (s.addrLength !== h.addrLength) continue;
    if (s.protocol !== 0 && s.protocol !== h.protocol) continue;
    if (inRange(buf, addrAt, s) && portOk(port, s)) return true;
  }
  return false;
}

/**
 * True when the packet's source matches one of `srcSelectors` and its destination one of
 * `dstSelectors` (inbound: source = the peer's side, destination = ours).
 */
export function matchesSelectors(
  buf: Uint8Array,
  h: InnerHeader,
  srcSelectors: readonly CompiledSelector[],
  dstSelectors: readonly CompiledSelector[],
): boolean {
  return matchesOne(buf, h, h.src, h.srcPort, srcSelectors) &&
    matchesOne(buf, h, h.dst, h.dstPort, dstSelectors);
}
