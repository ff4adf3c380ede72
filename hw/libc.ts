/**
 * Thin FFI glue to libc: one symbol table, opened on first use (never at import). Only
 * synchronous calls on non-blocking fds; callers drain fds in batches and then `poll`.
 * @module
 */

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // ioctl is variadic; its third argument is passed as a pointer, as on every Linux ABI.
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  recvfrom: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"],
    result: "isize",
  },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
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

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

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

/** Waits until one of `fds` is readable or `timeoutMs` passes; returns the readable fds. */
export function pollReadable(fds: readonly number[], timeoutMs: number): number[] {
  const buf = new Uint8Array(8 * fds.length);
  const view = new DataView(buf.buffer);
  fds.forEach((fd, i) => {
    view.setInt32(8 * i, fd, true);
    view.setInt16(8 * i + 4, POLLIN, true);
  });
  const n = libc().poll(buf, BigInt(fds.length), timeoutMs);
  if (n <= 0) return [];
  return fds.filter((_, i) => (view.getInt16(8 * i + 6, true) & POLLIN) !== 0);
}
