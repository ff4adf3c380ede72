/**
 * Hand-built inner packets for data-path tests.
 * @module
 */

import { parseIp } from "../../src/net/addr.ts";

/** Options for {@link udp4}. */
export interface Udp4Options {
  /** Source port. */
  sport?: number;
  /** Destination port. */
  dport?: number;
  /** UDP payload bytes (filled with a counting pattern). */
  payload?: number;
  /** Fragment offset field (8-byte units); non-zero hides the ports (RFC 4301 OPAQUE). */
  fragOffset?: number;
}

/** An IPv4/UDP packet from `src` to `dst` (checksums left zero: the data path ignores them). */
export function udp4(src: string, dst: string, o: Udp4Options = {}): Uint8Array {
  const payload = o.payload ?? 0;
  const len = 28 + payload;
  const p = new Uint8Array(len);
  p[0] = 0x45;
  p[2] = len >> 8;
  p[3] = len & 0xff;
  p[6] = (o.fragOffset ?? 0) >> 8;
  p[7] = (o.fragOffset ?? 0) & 0xff;
  p[9] = 17;
  p.set(parseIp(src)!, 12);
  p.set(parseIp(dst)!, 16);
  const sport = o.sport ?? 1;
  const dport = o.dport ?? 2;
  p[20] = sport >> 8;
  p[21] = sport & 0xff;
  p[22] = dport >> 8;
  p[23] = dport & 0xff;
  for (let i = 28; i < len; i++) p[i] = i & 0xff;
  return p;
}

/** Fills in the IPv4 header checksum (RFC 791 §3.1, RFC 1071) of `p` in place; returns `p`. */
export function withIpv4Checksum(p: Uint8Array): Uint8Array {
  const ihl = (p[0]! & 0x0f) * 4;
  p[10] = p[11] = 0;
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  p[10] = c >> 8;
  p[11] = c & 0xff;
  return p;
}
