/**
 * The console's serial line through libc (FFI, opened on first use, never at import): the
 * device opened non-blocking and set by termios to raw mode, 115200 baud, 8 data bits, no
 * parity, 1 stop bit, no flow control, receiver on, modem lines ignored. Reads and writes are
 * non-blocking calls; the caller polls (console input comes at typing speed).
 * @module
 */

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  tcgetattr: { parameters: ["i32", "buffer"], result: "i32" },
  tcsetattr: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  cfmakeraw: { parameters: ["buffer"], result: "void" },
  cfsetispeed: { parameters: ["buffer", "u32"], result: "i32" },
  cfsetospeed: { parameters: ["buffer", "u32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

function termiosLib(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

// Linux termios ABI (x86_64 and aarch64 glibc): four u32 flags, c_line, c_cc[32], speeds.
const TERMIOS_BYTES = 64;
const C_CFLAG = 8;
const C_CC = 17;
const VTIME = 5;
const VMIN = 6;
const CSTOPB = 0o100;
const CREAD = 0o200;
const CLOCAL = 0o4000;
const CRTSCTS = 0o20000000000;
const B115200 = 0o010002;
const TCSANOW = 0;
const O_RDWR = 0o2;
const O_NOCTTY = 0o400;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

/** The device could not be set up. */
export class SerialError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "SerialError";
  }
}

function errno(c: ReturnType<typeof termiosLib>): number {
  const p = c.__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

const EAGAIN = 11;
const EINTR = 4;

/** An open serial line. */
export interface SerialPort {
  /**
   * Reads what is waiting into `buf`: the byte count, 0 when nothing is waiting, -1 when the
   * line is gone (hang-up, I/O error).
   */
  read(buf: Uint8Array): number;
  /** Writes from `bytes`: the count written, 0 when the line cannot take more now, -1 on error. */
  write(bytes: Uint8Array): number;
  /** Closes the device. */
  close(): void;
}

/** Opens `device` and sets it to raw mode at 115200 8N1 without flow control. */
export function openSerial(device: string): SerialPort {
  const c = termiosLib();
  const path = new TextEncoder().encode(device + "\0");
  const fd = c.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw new SerialError(`${device}: open failed (errno ${errno(c)})`);
  try {
    configure(c, fd, device);
  } catch (err) {
    c.close(fd);
    throw err;
  }
  let open = true;
  const result = (n: number | bigint, zero: number): number => {
    const v = Number(n);
    if (v > 0) return v;
    if (v === 0) return zero;
    const e = errno(c);
    return e === EAGAIN || e === EINTR ? 0 : -1;
  };
  return {
    read(buf) {
      // read() returning 0 on a terminal means hang-up.
      return open ? result(c.read(fd, buf, BigInt(buf.length)), -1) : -1;
    },
    write(bytes) {
      return open ? result(c.write(fd, bytes, BigInt(bytes.length)), 0) : -1;
    },
    close() {
      if (open) c.close(fd);
      open = false;
    },
  };
}

function configure(c: ReturnType<typeof termiosLib>, fd: number, device: string): void {
  const t = new Uint8Array(TERMIOS_BYTES);
  if (c.tcgetattr(fd, t) !== 0) {
    throw new SerialError(`${device}: not a terminal (errno ${errno(c)})`);
  }
  c.cfmakeraw(t);
  const dv = new DataView(t.buffer);
  let cflag = dv.getUint32(C_CFLAG, true);
  cflag &= ~(CSTOPB | CRTSCTS);
  cflag |= CREAD | CLOCAL;
  dv.setUint32(C_CFLAG, cflag >>> 0, true);
  t[C_CC + VMIN] = 1;
  t[C_CC + VTIME] = 0;
  if (c.cfsetispeed(t, B115200) !== 0 || c.cfsetospeed(t, B115200) !== 0) {
    throw new SerialError(`${device}: 115200 baud refused`);
  }
  if (c.tcsetattr(fd, TCSANOW, t) !== 0) {
    throw new SerialError(`${device}: tcsetattr failed (errno ${errno(c)})`);
  }
}
