/**
 * IPv4 datagram sockets through libc: UDP (IKE and ESP-in-UDP, RFC 3948) and raw IP protocol 50
 * (ESP without NAT, RFC 4303). Non-blocking, synchronous calls; addresses are 32-bit numbers
 * in host order to keep the packet path free of strings.
 * @module
 */

import { EAGAIN, errno, errnoMessage, libc } from "./libc.ts";

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const IPPROTO_ESP = 50;
const SOCKADDR_IN = 16;

/** Where a received datagram came from (a reused object). */
export interface Source {
  /** IPv4 address, host order. */
  address: number;
  /** UDP port (0 for raw sockets). */
  port: number;
}

/** An open datagram socket. */
export interface DatagramSocket {
  /** The file descriptor (for poll). */
  readonly fd: number;
  /**
   * Receives one datagram into `buf`; returns its length (0 when none is waiting) and fills
   * `from`. Raw ESP sockets deliver the IPv4 header too (ESP starts after IHL * 4 bytes).
   */
  recv(buf: Uint8Array, from: Source): number;
  /** Sends `buf[offset, offset+length)` to `address`:`port`; false when it could not be sent. */
  send(buf: Uint8Array, offset: number, length: number, address: number, port: number): boolean;
  /** Closes the socket. */
  close(): void;
}

/** Parses dotted IPv4 text to a host-order number; throws RangeError on bad input. */
export function ipv4ToNumber(text: string): number {
  const p = text.split(".").map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
    throw new RangeError(`not an IPv4 address: '${text}'`);
  }
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function fillSockaddr(sa: Uint8Array, address: number, port: number): void {
  sa.fill(0);
  sa[0] = AF_INET; // sa_family, little-endian u16 on x86_64 and aarch64
  sa[2] = port >> 8;
  sa[3] = port & 0xff;
  sa[4] = address >>> 24;
  sa[5] = (address >>> 16) & 0xff;
  sa[6] = (address >>> 8) & 0xff;
  sa[7] = address & 0xff;
}

function open(type: number, protocol: number, what: string): number {
  const fd = libc().socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) throw new Error(`socket (${what}): ${errnoMessage(errno())}`);
  return fd;
}

function wrap(fd: number, what: string): DatagramSocket {
  const c = libc();
  const sa = new Uint8Array(SOCKADDR_IN);
  const saLen = new Uint32Array([SOCKADDR_IN]);
  const saLenBytes = new Uint8Array(saLen.buffer);
  let closed = false;
  return {
    fd,
    recv(buf, from) {
      saLen[0] = SOCKADDR_IN;
      const n = Number(c.recvfrom(fd, buf, BigInt(buf.length), 0, sa, saLenBytes));
      if (n < 0) {
        const e = errno();
        if (e === EAGAIN) return 0;
        throw new Error(`recv (${what}): ${errnoMessage(e)}`);
      }
      from.port = (sa[2]! << 8) | sa[3]!;
      from.address = ((sa[4]! << 24) | (sa[5]! << 16) | (sa[6]! << 8) | sa[7]!) >>> 0;
      return n;
    },
    send(buf, offset, length, address, port) {
      fillSockaddr(sa, address, port);
      const data = buf.subarray(offset, offset + length);
      return Number(c.sendto(fd, data, BigInt(length), 0, sa, SOCKADDR_IN)) === length;
    },
    close() {
      if (!closed) c.close(fd);
      closed = true;
    },
  };
}

/** A UDP socket bound to `address`:`port` (address "0.0.0.0" for any). */
export function openUdp(address: string, port: number): DatagramSocket {
  const fd = open(SOCK_DGRAM, 0, `udp ${address}:${port}`);
  const c = libc();
  c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, new Uint8Array(new Int32Array([1]).buffer), 4);
  const sa = new Uint8Array(SOCKADDR_IN);
  fillSockaddr(sa, ipv4ToNumber(address), port);
  if (c.bind(fd, sa, SOCKADDR_IN) < 0) {
    const e = errno();
    c.close(fd);
    throw new Error(`bind udp ${address}:${port}: ${errnoMessage(e)}`);
  }
  return wrap(fd, `udp ${address}:${port}`);
}

/** A raw IPv4 socket for IP protocol 50 (ESP). Received datagrams include the IPv4 header. */
export function openRawEsp(): DatagramSocket {
  return wrap(open(SOCK_RAW, IPPROTO_ESP, "raw esp"), "raw esp");
}
