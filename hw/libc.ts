/**
 * Thin FFI glue to libc: one symbol table, opened on first use (never at import). Only
 * synchronous calls on non-blocking fds; callers drain fds in batches and then `poll`.
 *
 * The packet path passes memory inside its pooled buffers as raw addresses written into fixed
 * structures (iovec, mmsghdr) that go as `buffer`, with `i32` counts and results, so a packet
 * allocates neither a bigint (a `usize` argument or `isize` result is one) nor a subarray;
 * whole buffers go as `buffer`.
 * @module
 */

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // The packet path's TUN I/O: one iovec laid out in a fixed buffer, so a call passes no bigint
  // and gets none back (the ssize_t result read as its low 32 bits: a packet is < 64 KiB, and
  // -1 stays -1).
  readv: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  writev: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  // ioctl is variadic; its third argument is passed as a pointer, as on every Linux ABI.
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  recvfrom: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"],
    result: "isize",
  },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  // recvmmsg's timeout pointer is always NULL.
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

/** The libc symbols branchgate uses. */
export type LibC = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** open(2) flags (identical on x86_64 and aarch64 Linux). */
export const O_RDWR = 0o2;
/** Non-blocking I/O. */
export const O_NONBLOCK = 0o4000;
/** Close on exec. */
export const O_CLOEXEC = 0o2000000;
/** poll(2) events. */
export const POLLIN = 0x1;
/** errno: try again. */
export const EAGAIN = 11;
/** errno: interrupted system call. */
export const EINTR = 4;

/**
 * poll(2) declared `nonblocking`: Deno runs it on a thread of its own pool and resolves a
 * Promise, so the main isolate's event loop keeps running while the data path sleeps.
 */
const ASYNC_SYMBOLS = {
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;
let asyncLib: Deno.DynamicLibrary<typeof ASYNC_SYMBOLS> | undefined;

/** The libc symbol table, opened on first call. */
export function libc(): LibC {
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

/** The calling thread's errno. */
export function errno(): number {
  const p = libc().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/** A readable message for an errno value. */
export function errnoMessage(code: number): string {
  const p = libc().strerror(code);
  return p === null ? `errno ${code}` : Deno.UnsafePointerView.getCString(p);
}

/**
 * The address of `bytes[0]` as a number, for `usize` parameters and for pointers stored inside
 * structures. The backing store of an ArrayBuffer never moves, so the address stays valid for
 * as long as the caller keeps `bytes` alive.
 */
export function addressOf(bytes: Uint8Array): number {
  if (bytes.byteLength === 0) throw new RangeError("no address for an empty buffer");
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
}

/** A reusable poll(2) set over fixed fds: no allocation per wait. */
export class PollSet {
  readonly #fds: readonly number[];
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  readonly #count: bigint;

  /** Watches `fds` for readability. */
  constructor(fds: readonly number[]) {
    this.#fds = [...fds];
    this.#count = BigInt(fds.length);
    this.#buf = new Uint8Array(8 * Math.max(fds.length, 1));
    this.#view = new DataView(this.#buf.buffer);
    fds.forEach((fd, i) => {
      this.#view.setInt32(8 * i, fd, true);
      this.#view.setInt16(8 * i + 4, POLLIN, true);
    });
  }

  /** Waits up to `timeoutMs` (-1: forever); returns how many fds are ready (0 on timeout). */
  wait(timeoutMs: number): number {
    for (let i = 0; i < this.#fds.length; i++) this.#view.setInt16(8 * i + 6, 0, true);
    const n = libc().poll(this.#buf, this.#count, timeoutMs);
    if (n < 0 && errno() !== EINTR) throw new Error(`poll: ${errnoMessage(errno())}`);
    return Math.max(n, 0);
  }

  /**
   * {@link wait} on a thread of Deno's pool: the calling isolate's event loop runs meanwhile.
   * Resolves with how many fds are ready (0 on timeout or when interrupted: errno belongs to
   * that thread). The set must not be used again before the Promise settles.
   */
  async waitAsync(timeoutMs: number): Promise<number> {
    for (let i = 0; i < this.#fds.length; i++) this.#view.setInt16(8 * i + 6, 0, true);
    asyncLib ??= Deno.dlopen("libc.so.6", ASYNC_SYMBOLS);
    const n = await asyncLib.symbols.poll(this.#buf, this.#count, timeoutMs);
    return Math.max(n, 0);
  }

  /** Whether the `i`-th fd became readable (or hung up, or failed) in the last wait. */
  ready(i: number): boolean {
    return this.#view.getInt16(8 * i + 6, true) !== 0;
  }
}

/** Waits until one of `fds` is readable or `timeoutMs` passes; returns the readable fds. */
export function pollReadable(fds: readonly number[], timeoutMs: number): number[] {
  const set = new PollSet(fds);
  if (set.wait(timeoutMs) === 0) return [];
  return fds.filter((_, i) => set.ready(i));
}
