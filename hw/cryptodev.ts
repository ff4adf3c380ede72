/**
 * FFI to a cryptodev-linux device (`/dev/crypto`): open, ioctl and close, and the structures
 * of `crypto/cryptodev.h` (same layout on x86_64 and aarch64). The only code that knows this
 * ABI; `src/crypto/cryptodev*.ts` builds the backend on top.
 *
 * `BRANCHGATE_CRYPTODEV_LIB` names a shared library loaded instead of libc for the device's
 * `open`, `ioctl` and `close` (tests use a fake device built from tests/fakes/cryptodev/).
 *
 * The packet path calls {@link CryptodevOps}: its op structures, IV, AAD and digest buffers are
 * allocated once; per operation only numbers are written into them, and the data is worked on
 * in place inside the caller's buffer.
 * @module
 */

import { errno } from "./libc.ts";

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  // ioctl is variadic; its third argument is a pointer on every Linux ABI.
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
} as const;

// memcpy from libc, for the snapshot that lets a failed operation be redone elsewhere.
const COPY = { memcpy: { parameters: ["usize", "usize", "usize"], result: "usize" } } as const;

/**
 * Deno's FFI takes a plain number for a `usize` at run time (slower than a bigint, ~260 ns,
 * but without allocating one per call); its types only declare bigint.
 */
function usize(n: number): bigint {
  return n as unknown as bigint;
}

/** ioctl numbers: _IOWR('c', 102, struct session_op) etc. (cryptodev.h). */
export const CIOCGSESSION = 0xc0306366n;
/** _IOW('c', 103, __u32): frees the session whose id the argument points to. */
export const CIOCFSESSION = 0x40046367n;
/** _IOWR('c', 104, struct crypt_op). */
export const CIOCCRYPT = 0xc0306368n;
/** _IOWR('c', 107, struct session_info_op): 268 bytes (4 + 2 × 128 + 2 + pad 2 + 4). */
export const CIOCGSESSINFO = 0xc10c636bn;
/** _IOWR('c', 109, struct crypt_auth_op). */
export const CIOCAUTHCRYPT = 0xc048636dn;

/** cryptodev_crypto_op_t values branchgate uses. */
export const CRYPTODEV_ALG = {
  sha1Hmac: 7,
  aesCbc: 11,
  sha256Hmac: 18,
  sha384Hmac: 19,
  sha512Hmac: 20,
  aesGcm: 50,
} as const;

/** SIOP_FLAG_KERNEL_DRIVER_ONLY: the session runs on a hardware (kernel-only) driver. */
export const SIOP_FLAG_KERNEL_DRIVER_ONLY = 1;
/** errno of a failed tag check (CIOCAUTHCRYPT decryption). */
export const EBADMSG = 74;

const SESSION_OP = 48; // cipher@0 mac@4 keylen@8 key*@16 mackeylen@24 mackey*@32 ses@40
const SESSION_INFO_OP = 268; // ses@0 cipher_info@4 hash_info@132 alignmask@260 flags@264
const CRYPT_OP = 48; // ses@0 op@4 flags@6 len@8 src*@16 dst*@24 mac*@32 iv*@40
const CRYPT_AUTH_OP = 72; // ses@0 op@4 flags@6 len@8 auth_len@12 auth_src*@16 src*@24 dst*@32
//                         tag*@40 tag_len@48 iv*@56 iv_len@64
const COP_ENCRYPT = 0;
const COP_DECRYPT = 1;
const O_RDWR_CLOEXEC = 0o2 | 0o2000000;
/** Largest operation the snapshot buffer covers (an ESP packet of a 64 KiB datagram). */
export const CRYPTODEV_MAX_LEN = 65_536 + 64;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let copy: Deno.DynamicLibrary<typeof COPY>["symbols"] | undefined;

/** The library providing open/ioctl/close for the device (libc unless overridden). */
export function cryptodevLibrary(): string {
  return Deno.env.get("BRANCHGATE_CRYPTODEV_LIB") || "libc.so.6";
}

const opened = new Map<string, Lib>();

// One snapshot buffer per thread (module state is per isolate, and every operation is
// synchronous), allocated on first use: SAs do not each pay 64 KiB for it.
let snapshot: Uint8Array | undefined;
let snapshotAddr = 0;

function symbols(name: string): Lib {
  let lib = opened.get(name);
  if (lib === undefined) opened.set(name, lib = Deno.dlopen(name, SYMBOLS).symbols);
  return lib;
}

function address(bytes: Uint8Array): number {
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
}

/** Writes a 64-bit address as two 32-bit halves (no BigInt per call). */
function putPtr(v: DataView, at: number, addr: number): void {
  v.setUint32(at, addr >>> 0, true);
  v.setUint32(at + 4, Math.floor(addr / 0x1_0000_0000), true);
}

/** A device error: the ioctl or open that failed and its errno. */
export class CryptodevError extends Error {
  /** `what` failed with `errno`. */
  constructor(what: string, readonly errno: number) {
    super(`${what} failed (errno ${errno})`);
    this.name = "CryptodevError";
  }
}

/** What CIOCGSESSINFO says about a session. */
export interface CryptodevSessionInfo {
  /** The kernel driver behind the cipher part (e.g. "gcm-aes-caam"), or "". */
  readonly cipherDriver: string;
  /** The kernel driver behind the MAC part, or "". */
  readonly macDriver: string;
  /** SIOP_FLAG_KERNEL_DRIVER_ONLY: a hardware engine, not a CPU implementation. */
  readonly hardware: boolean;
  /** Alignment the driver wants for buffers (alignmask + 1 bytes). */
  readonly alignmask: number;
}

/** An open cryptodev file descriptor. */
export class CryptodevDevice {
  readonly #lib: Lib;
  #fd: number;

  private constructor(lib: Lib, fd: number, readonly path: string) {
    this.#lib = lib;
    this.#fd = fd;
  }

  /**
   * Opens `path` (normally /dev/crypto) through `library` (default {@link cryptodevLibrary});
   * throws a {@link CryptodevError} when it cannot.
   */
  static open(path: string, library = cryptodevLibrary()): CryptodevDevice {
    const lib = symbols(library);
    const fd = lib.open(new TextEncoder().encode(path + "\0"), O_RDWR_CLOEXEC, 0);
    if (fd < 0) throw new CryptodevError(`open ${path}`, errno());
    return new CryptodevDevice(lib, fd, path);
  }

  /** The file descriptor (-1 once closed). */
  get fd(): number {
    return this.#fd;
  }

  /**
   * CIOCGSESSION for a cipher (`cipher` ≠ 0, `key`) or a MAC (`mac` ≠ 0, `macKey`) session;
   * returns the session id. The device copies the keys; the caller may wipe them afterwards.
   */
  createSession(cipher: number, key: Uint8Array, mac: number, macKey: Uint8Array): number {
    const op = new Uint8Array(SESSION_OP);
    const v = new DataView(op.buffer);
    v.setUint32(0, cipher, true);
    v.setUint32(4, mac, true);
    v.setUint32(8, key.length, true);
    if (key.length > 0) putPtr(v, 16, address(key));
    v.setUint32(24, macKey.length, true);
    if (macKey.length > 0) putPtr(v, 32, address(macKey));
    this.#ioctl(CIOCGSESSION, op, "CIOCGSESSION");
    return v.getUint32(40, true);
  }

  /** CIOCGSESSINFO for session `ses`. */
  sessionInfo(ses: number): CryptodevSessionInfo {
    const op = new Uint8Array(SESSION_INFO_OP);
    const v = new DataView(op.buffer);
    v.setUint32(0, ses, true);
    this.#ioctl(CIOCGSESSINFO, op, "CIOCGSESSINFO");
    const text = (at: number) => {
      const end = op.indexOf(0, at);
      return new TextDecoder().decode(op.subarray(at, end < 0 || end > at + 64 ? at + 64 : end));
    };
    return {
      cipherDriver: text(4 + 64),
      macDriver: text(132 + 64),
      alignmask: v.getUint16(260, true),
      hardware: (v.getUint32(264, true) & SIOP_FLAG_KERNEL_DRIVER_ONLY) !== 0,
    };
  }

  /** CIOCFSESSION; errors are ignored (the session is gone either way). */
  freeSession(ses: number): void {
    if (this.#fd < 0) return;
    const id = new Uint8Array(4);
    new DataView(id.buffer).setUint32(0, ses, true);
    this.#lib.ioctl(this.#fd, CIOCFSESSION, id);
  }

  /** Preallocated operation structures for the packet path, bound to this device. */
  ops(): CryptodevOps {
    return new CryptodevOps(this.#lib, this.#fd);
  }

  /** Closes the descriptor; the kernel frees sessions still open. */
  close(): void {
    if (this.#fd >= 0) this.#lib.close(this.#fd);
    this.#fd = -1;
  }

  #ioctl(request: bigint, arg: Uint8Array, what: string): void {
    if (this.#fd < 0) throw new CryptodevError(`${what} (device closed)`, 9);
    if (this.#lib.ioctl(this.#fd, request, arg) !== 0) throw new CryptodevError(what, errno());
  }
}

/**
 * Op structures, IV/AAD/digest buffers and a snapshot buffer, allocated once. Every method
 * returns 0 or the errno of the failed ioctl and works in place on `buf[offset, …)`; the
 * caller checks ranges. Not shared between threads (one per context).
 */
export class CryptodevOps {
  readonly #cop = new Uint8Array(CRYPT_OP);
  readonly #aop = new Uint8Array(CRYPT_AUTH_OP);
  readonly #copView = new DataView(this.#cop.buffer);
  readonly #aopView = new DataView(this.#aop.buffer);
  /** The IV the device reads (12 bytes for GCM, 16 for CBC); it may write it back. */
  readonly iv = new Uint8Array(16);
  /** AAD (ESP's is 8 or 12 bytes: SPI ‖ Seq[‖ Seq high]); longer AAD is not taken. */
  readonly aad = new Uint8Array(64);
  /** Where a MAC session writes the full digest. */
  readonly digest = new Uint8Array(64);
  #lastBuf: Uint8Array | undefined;
  #lastAddr = 0;

  /** Binds to `fd` of an open device through `lib`. */
  constructor(private readonly lib: Lib, private readonly fd: number) {
    putPtr(this.#copView, 32, address(this.digest));
    putPtr(this.#copView, 40, address(this.iv));
    putPtr(this.#aopView, 16, address(this.aad));
    putPtr(this.#aopView, 56, address(this.iv));
  }

  #addr(buf: Uint8Array): number {
    // Pooled packet buffers come back again and again: remember the last one's address.
    if (buf !== this.#lastBuf) {
      this.#lastBuf = buf;
      this.#lastAddr = address(buf);
    }
    return this.#lastAddr;
  }

  #call(request: bigint, op: Uint8Array): number {
    return this.lib.ioctl(this.fd, request, op) === 0 ? 0 : (errno() || 5);
  }

  /** CIOCCRYPT on a CBC session, in place; the IV is in {@link iv}. */
  cipher(ses: number, encrypt: boolean, buf: Uint8Array, offset: number, length: number): number {
    const v = this.#copView;
    const at = this.#addr(buf) + offset;
    v.setUint32(0, ses, true);
    v.setUint16(4, encrypt ? COP_ENCRYPT : COP_DECRYPT, true);
    v.setUint16(6, 0, true);
    v.setUint32(8, length, true);
    putPtr(v, 16, at);
    putPtr(v, 24, at);
    return this.#call(CIOCCRYPT, this.#cop);
  }

  /** CIOCCRYPT on a MAC session: the full digest of `buf[offset, offset+length)` into {@link digest}. */
  mac(ses: number, buf: Uint8Array, offset: number, length: number): number {
    const v = this.#copView;
    v.setUint32(0, ses, true);
    v.setUint16(4, COP_ENCRYPT, true);
    v.setUint16(6, 0, true);
    v.setUint32(8, length, true);
    // A zero-length MAC still needs a valid source pointer: the digest buffer will do.
    putPtr(v, 16, length > 0 ? this.#addr(buf) + offset : address(this.digest));
    putPtr(v, 24, 0);
    return this.#call(CIOCCRYPT, this.#cop);
  }

  /**
   * CIOCAUTHCRYPT on an AES-GCM session in plain AEAD mode, in place: the 12-byte IV is in
   * {@link iv}, the first `aadLength` bytes of {@link aad} are the AAD. Encryption reads
   * `length` bytes and writes `length` + 16 (tag after the data); decryption reads
   * `length` + 16 (ciphertext ‖ tag) and fails with EBADMSG on a bad tag.
   */
  aead(
    ses: number,
    encrypt: boolean,
    aadLength: number,
    buf: Uint8Array,
    offset: number,
    length: number,
  ): number {
    const v = this.#aopView;
    const at = this.#addr(buf) + offset;
    v.setUint32(0, ses, true);
    v.setUint16(4, encrypt ? COP_ENCRYPT : COP_DECRYPT, true);
    v.setUint16(6, 0, true);
    v.setUint32(8, encrypt ? length : length + 16, true);
    v.setUint32(12, aadLength, true);
    putPtr(v, 24, at);
    putPtr(v, 32, at);
    putPtr(v, 40, 0);
    v.setUint32(48, 16, true);
    v.setUint32(64, 12, true);
    return this.#call(CIOCAUTHCRYPT, this.#aop);
  }

  /**
   * Copies `buf[offset, offset+length)` aside (false when longer than
   * {@link CRYPTODEV_MAX_LEN}), so that {@link restore} can undo what a failed in-place
   * operation wrote.
   */
  save(buf: Uint8Array, offset: number, length: number): boolean {
    if (length > CRYPTODEV_MAX_LEN) return false;
    if (snapshot === undefined) {
      snapshot = new Uint8Array(CRYPTODEV_MAX_LEN);
      snapshotAddr = address(snapshot);
    }
    if (length > 0) {
      copy ??= Deno.dlopen("libc.so.6", COPY).symbols;
      copy.memcpy(usize(snapshotAddr), usize(this.#addr(buf) + offset), usize(length));
    }
    return true;
  }

  /**
   * Puts back what {@link save} copied, `length` bytes at `buf[offset]`; only valid before the
   * next save on this thread.
   */
  restore(buf: Uint8Array, offset: number, length: number): void {
    if (snapshot === undefined || copy === undefined || length <= 0) return;
    copy.memcpy(usize(this.#addr(buf) + offset), usize(snapshotAddr), usize(length));
  }
}
