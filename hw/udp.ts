/**
 * UDP sockets (IPv4 or IPv6) for IKE and ESP-in-UDP (RFC 3948), with recvmmsg/sendmmsg batches
 * and UDP GSO. The kernel's own ESP-in-UDP decapsulation (UDP_ENCAP) is deliberately not used:
 * every datagram reaches userspace, where the data path demultiplexes it.
 * @module
 */

import {
  type BatchSocket,
  batchSocket,
  bindSocket,
  boundPort,
  openSocket,
  wantLocalAddress,
} from "./sockaddr.ts";

const SOCK_DGRAM = 2;

/** A bound UDP socket. */
export interface UdpSocket extends BatchSocket {
  /** The bound port (useful after binding port 0). */
  readonly port: number;
}

/**
 * Opens a non-blocking UDP socket bound to `address` (4 or 16 bytes; all zero for any) and
 * `port` (0: any free port). With `gso`, batches of equal-sized datagrams to one peer are sent
 * as single GSO messages up to `gsoMaxSegment` bytes each. A socket bound to a wildcard
 * address reports each datagram's destination address (see `BatchSocket.localAddress`).
 */
export function openUdp(
  address: Uint8Array,
  port: number,
  gso = true,
  gsoMaxSegment = 1472,
): UdpSocket {
  const family = address.length === 16 ? 6 : 4;
  const what = `udp port ${port}`;
  const fd = openSocket(family, SOCK_DGRAM, 0, what);
  if (address.every((b) => b === 0)) wantLocalAddress(fd, family);
  bindSocket(fd, address, port, what);
  const sock = batchSocket(fd, family, gso ? { maxSegment: gsoMaxSegment } : undefined);
  return { ...sock, port: boundPort(fd) };
}
