/**
 * An eventfd(2) counter: the main thread signals it after posting a control message, so the
 * data-path Worker, blocked in `poll`, wakes up promptly. The fd is shared by every thread of
 * the process; each side opens libc in its own isolate.
 * @module
 */

import { EAGAIN, errno, errnoMessage, libc } from "./libc.ts";

const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;

/** Creates a non-blocking eventfd; returns its fd. */
export function createEventFd(): number {
  const fd = libc().eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw new Error(`eventfd: ${errnoMessage(errno())}`);
  return fd;
}

/** Adds `n` to the counter of eventfd `fd` (wakes a poller). */
export function signalEventFd(fd: number, n = 1): void {
  const v = new BigUint64Array([BigInt(n)]);
  const r = Number(libc().write(fd, new Uint8Array(v.buffer), 8n));
  if (r !== 8) throw new Error(`eventfd write: ${errnoMessage(errno())}`);
}

/** Reads and resets the counter of eventfd `fd`; 0 when it was not signalled. */
export function drainEventFd(fd: number): number {
  const v = new BigUint64Array(1);
  const r = Number(libc().read(fd, new Uint8Array(v.buffer), 8n));
  if (r === 8) return Number(v[0]);
  const e = errno();
  if (r < 0 && e === EAGAIN) return 0;
  throw new Error(`eventfd read: ${errnoMessage(e)}`);
}

/** Closes an fd made by {@link createEventFd}. */
export function closeEventFd(fd: number): void {
  libc().close(fd);
}
