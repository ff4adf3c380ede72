/**
 * Raw IP protocol 50 sockets: ESP straight over IP (RFC 4303 §1) for peers without NAT. The
 * kernel adds the outer header on send; on receive, IPv4 raw sockets include the outer header,
 * which this module skips so every slot starts at the SPI.
 * @module
 */

import type { PacketSlots } from "./mmsg.ts";
import { type BatchSocket, batchSocket, bindSocket, openSocket } from "./sockaddr.ts";

const SOCK_RAW = 3;
const IPPROTO_ESP = 50;

/** Skips each received IPv4 header (RFC 791 §3.1 IHL); malformed ones become length -1. */
function skipIpv4Header(slots: PacketSlots, n: number): void {
  for (let i = 0; i < n; i++) {
    const len = slots.length[i]!;
    if (len <= 0) continue;
    const at = slots.start[i]!;
    const first = slots.data[at]!;
    const ihl = (first & 0x0f) * 4;
    if (first >> 4 !== 4 || ihl < 20 || ihl >= len) {
      slots.length[i] = -1;
      continue;
    }
    slots.start[i] = at + ihl;
    slots.length[i] = len - ihl;
  }
}

/**
 * Opens a raw ESP socket for `family`; with `address` (4 or 16 bytes) it only receives ESP
 * sent to that address. Needs CAP_NET_RAW.
 */
export function openRawEsp(family: 4 | 6, address?: Uint8Array): BatchSocket {
  const what = `raw esp (IPv${family})`;
  const fd = openSocket(family, SOCK_RAW, IPPROTO_ESP, what);
  if (address !== undefined) bindSocket(fd, address, 0, what);
  return batchSocket(fd, family, undefined, family === 4 ? skipIpv4Header : undefined);
}
