/**
 * A connected pair of AF_UNIX datagram sockets: each write on one end is one read on the other,
 * exactly like a TUN queue, so the data path can be run over it without root (tests, benchmarks
 * of the packet loop). Both ends are non-blocking and close-on-exec.
 * @module
 */

import { errno, errnoMessage, libc } from "./libc.ts";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;

/** Opens the pair; returns both fds. Throws an Error naming errno on failure. */
export function openPacketPair(bufferBytes = 1 << 20): [number, number] {
  const fds = new Int32Array(2);
  const c = libc();
  const r = c.socketpair(
    AF_UNIX,
    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
    0,
    new Uint8Array(fds.buffer),
  );
  if (r < 0) throw new Error(`socketpair: ${errnoMessage(errno())}`);
  const size = new Uint8Array(new Int32Array([bufferBytes]).buffer);
  for (const fd of fds) {
    c.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, size, 4);
    c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, 4);
  }
  return [fds[0]!, fds[1]!];
}

/** Closes one end of a pair. */
export function closeFd(fd: number): void {
  libc().close(fd);
}
