/**
 * Serial line settings for the console through termios (libc FFI, opened on first use):
 * raw mode, 115200 baud, 8 data bits, no parity, 1 stop bit, no flow control, receiver on,
 * modem lines ignored. The settings belong to the device, so the caller keeps its own handle
 * open (Deno.open) for the I/O and calls {@link configureSerial} once.
 * @module
 */

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
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

/** Puts `device` in raw mode at 115200 8N1 without flow control. */
export function configureSerial(device: string): void {
  const c = termiosLib();
  const path = new TextEncoder().encode(device + "\0");
  const fd = c.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw new SerialError(`${device}: open failed (errno ${errno(c)})`);
  try {
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
  } finally {
    c.close(fd);
  }
}
