/**
 * Datagram socket plumbing shared by hw/udp.ts and hw/raw_ip.ts: creation, socket options,
 * sockaddr encoding, single sends for the control plane, and the batch interface the packet
 * path uses.
 * @module
 */

import { errno, errnoMessage, libc } from "./libc.ts";
import { type GsoState, mmsgFor, type PacketSlots, type SendResult } from "./mmsg.ts";

/** Address family numbers. */
export const AF_INET = 2;
/** IPv6. */
export const AF_INET6 = 10;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_SNDBUF = 7;
const SO_RCVBUFFORCE = 33;
const SO_SNDBUFFORCE = 32;
const IPPROTO_IP = 0;
const IPPROTO_IPV6 = 41;
const IP_MTU_DISCOVER = 10;
const IPV6_MTU_DISCOVER = 23;
const IPV6_V6ONLY = 26;
const IP_PKTINFO = 8;
const IPV6_RECVPKTINFO = 49;
const PMTUDISC_DONT = 0;

/** A non-blocking datagram socket with batch I/O over {@link PacketSlots}. */
export interface BatchSocket {
  /** The file descriptor (for poll). */
  readonly fd: number;
  /** 4 or 6. */
  readonly family: 4 | 6;
  /**
   * Receives up to `max` datagrams into slots 0…n-1 of `slots`, `offset` bytes into each slot;
   * returns n. For raw IPv4 the outer header is already skipped (start/length cover ESP only).
   */
  recvBatch(slots: PacketSlots, offset: number, max: number): number;
  /**
   * The destination address of datagram `i` of the last {@link recvBatch} into `slots`, into
   * `out` (16 bytes); returns 4 or 16, or 0 when unknown (only sockets opened with
   * `wantLocal` report it).
   */
  localAddress(slots: PacketSlots, i: number, out: Uint8Array): number;
  /** Sends the slots of 0…count-1 tagged `tag` to their slot addresses. */
  sendBatch(slots: PacketSlots, tag: number, count: number): SendResult;
  /** Sends one datagram (control plane: IKE, keepalives); false when the kernel refused it. */
  sendTo(data: Uint8Array, address: Uint8Array, port: number): boolean;
  /** Closes the socket. */
  close(): void;
}

/** Encodes a sockaddr_in / sockaddr_in6 for `address` (4 or 16 bytes) and `port`. */
export function encodeSockaddr(address: Uint8Array, port: number): Uint8Array {
  if (address.length === 16) {
    const sa = new Uint8Array(28);
    sa[0] = AF_INET6; // sa_family is host order; little-endian on x86_64 and aarch64
    sa[2] = port >> 8;
    sa[3] = port & 0xff;
    sa.set(address, 8);
    return sa;
  }
  if (address.length !== 4) throw new RangeError("an IP address is 4 or 16 bytes");
  const sa = new Uint8Array(16);
  sa[0] = AF_INET;
  sa[2] = port >> 8;
  sa[3] = port & 0xff;
  sa.set(address, 4);
  return sa;
}

/** The bound port of socket `fd` (after binding to port 0). */
export function boundPort(fd: number): number {
  const sa = new Uint8Array(28);
  const len = new Uint32Array([28]);
  if (libc().getsockname(fd, sa, new Uint8Array(len.buffer)) < 0) {
    throw new Error(`getsockname: ${errnoMessage(errno())}`);
  }
  return (sa[2]! << 8) | sa[3]!;
}

function setInt(fd: number, level: number, name: number, value: number): boolean {
  return libc().setsockopt(fd, level, name, new Uint8Array(new Int32Array([value]).buffer), 4) ===
    0;
}

/**
 * Opens a non-blocking datagram socket of `family` (`type` SOCK_DGRAM or SOCK_RAW), with large
 * buffers and outer fragmentation left to the kernel (DF clear: the tunnel, not the inner
 * hosts, absorbs the ESP overhead). `what` names it in errors.
 */
export function openSocket(family: 4 | 6, type: number, protocol: number, what: string): number {
  const c = libc();
  const fd = c.socket(
    family === 6 ? AF_INET6 : AF_INET,
    type | SOCK_NONBLOCK | SOCK_CLOEXEC,
    protocol,
  );
  if (fd < 0) throw new Error(`socket (${what}): ${errnoMessage(errno())}`);
  const size = 4 << 20;
  if (!setInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size)) setInt(fd, SOL_SOCKET, SO_RCVBUF, size);
  if (!setInt(fd, SOL_SOCKET, SO_SNDBUFFORCE, size)) setInt(fd, SOL_SOCKET, SO_SNDBUF, size);
  if (family === 6) {
    setInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    setInt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, PMTUDISC_DONT);
  } else {
    setInt(fd, IPPROTO_IP, IP_MTU_DISCOVER, PMTUDISC_DONT);
  }
  return fd;
}

/**
 * Asks the kernel to report each received datagram's destination address (IP_PKTINFO,
 * IPV6_RECVPKTINFO), for sockets bound to a wildcard address.
 */
export function wantLocalAddress(fd: number, family: 4 | 6): void {
  if (family === 6) setInt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
  else setInt(fd, IPPROTO_IP, IP_PKTINFO, 1);
}

/** Binds `fd` to `address`:`port`; closes it and throws when that fails. */
export function bindSocket(fd: number, address: Uint8Array, port: number, what: string): void {
  const sa = encodeSockaddr(address, port);
  if (libc().bind(fd, sa, sa.length) < 0) {
    const e = errno();
    libc().close(fd);
    throw new Error(`bind ${what}: ${errnoMessage(e)}`);
  }
}

/** Wraps an open fd as a {@link BatchSocket}; `fixRecv` post-processes received slots. */
export function batchSocket(
  fd: number,
  family: 4 | 6,
  gso: GsoState | undefined,
  fixRecv?: (slots: PacketSlots, n: number) => void,
): BatchSocket {
  const c = libc();
  let closed = false;
  return {
    fd,
    family,
    recvBatch(slots, offset, max) {
      const n = mmsgFor(slots).recv(fd, offset, max);
      if (fixRecv !== undefined && n > 0) fixRecv(slots, n);
      return n;
    },
    localAddress(slots, i, out) {
      return mmsgFor(slots).localAddress(i, out);
    },
    sendBatch(slots, tag, count) {
      return mmsgFor(slots).send(fd, tag, count, gso);
    },
    sendTo(data, address, port) {
      const sa = encodeSockaddr(address, port);
      return Number(c.sendto(fd, data, BigInt(data.length), 0, sa, sa.length)) === data.length;
    },
    close() {
      if (!closed) c.close(fd);
      closed = true;
    },
  };
}
