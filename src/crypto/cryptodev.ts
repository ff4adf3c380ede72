/**
 * The /dev/crypto backend (cryptodev-linux, hw/cryptodev.ts): what a router's crypto engine
 * offers for ESP and IKE — AES-GCM-16 (RFC 4106), AES-CBC (RFC 3602) and HMAC-SHA1-96 /
 * HMAC-SHA2 (RFC 2404, RFC 4868) as two sessions, encryption then MAC (RFC 4303 §3.3.2.1).
 * One device session per key, freed by `dispose()`.
 *
 * These raw contexts throw a {@link CryptoError} when the device fails; the packet path uses
 * them through cryptodev_offload.ts, which falls back to libcrypto instead. Each context also
 * offers `try*` methods that return the errno (0: done) without throwing or allocating.
 * @module
 */

import {
  CRYPTODEV_ALG,
  CryptodevDevice,
  CryptodevOps,
  type CryptodevSessionInfo,
  EBADMSG,
} from "../../hw/cryptodev.ts";
import {
  type AeadAlg,
  type AeadContext,
  type AlgorithmName,
  type CipherAlg,
  type CipherContext,
  type CryptoBackend,
  CryptoError,
  type MacAlg,
  type MacContext,
} from "./types.ts";
import { AEAD_KEY_LENGTH, CIPHER_KEY_LENGTH, freshMac, MAC_PARAMS, rangeOk } from "./params.ts";

const NONCE = 12;
const ICV = 16;
const EMPTY = new Uint8Array(0);

/** The device algorithm behind each algorithm this backend can offer. */
export const CRYPTODEV_ALGORITHMS: ReadonlyMap<AlgorithmName, { cipher: number; mac: number }> =
  new Map<AlgorithmName, { cipher: number; mac: number }>([
    ["aead:aes128gcm16", { cipher: CRYPTODEV_ALG.aesGcm, mac: 0 }],
    ["aead:aes256gcm16", { cipher: CRYPTODEV_ALG.aesGcm, mac: 0 }],
    ["cipher:aes128cbc", { cipher: CRYPTODEV_ALG.aesCbc, mac: 0 }],
    ["cipher:aes192cbc", { cipher: CRYPTODEV_ALG.aesCbc, mac: 0 }],
    ["cipher:aes256cbc", { cipher: CRYPTODEV_ALG.aesCbc, mac: 0 }],
    ["mac:hmac-sha1-96", { cipher: 0, mac: CRYPTODEV_ALG.sha1Hmac }],
    ["mac:hmac-sha256-128", { cipher: 0, mac: CRYPTODEV_ALG.sha256Hmac }],
    ["mac:hmac-sha384-192", { cipher: 0, mac: CRYPTODEV_ALG.sha384Hmac }],
    ["mac:hmac-sha512-256", { cipher: 0, mac: CRYPTODEV_ALG.sha512Hmac }],
  ]);

function keyLength(alg: AlgorithmName): number {
  const [kind, name] = alg.split(":") as [string, string];
  if (kind === "aead") return AEAD_KEY_LENGTH[name as AeadAlg];
  if (kind === "cipher") return CIPHER_KEY_LENGTH[name as CipherAlg];
  return MAC_PARAMS[name as MacAlg].keyLength;
}

/** One device session and its preallocated op structures. */
abstract class DevSession {
  protected readonly ops: CryptodevOps;
  #ses: number;

  constructor(
    protected readonly dev: CryptodevDevice,
    cipher: number,
    key: Uint8Array,
    mac: number,
  ) {
    this.#ses = cipher !== 0
      ? dev.createSession(cipher, key, 0, EMPTY)
      : dev.createSession(0, EMPTY, mac, key);
    this.ops = dev.ops();
  }

  /** The device session id (0 once disposed). */
  get ses(): number {
    return this.#ses;
  }

  /**
   * Copies the `length` input bytes at `buf[offset]` aside before an in-place operation, so that
   * {@link restoreInput} can undo what a failed one wrote (false: too long to copy).
   */
  saveInput(buf: Uint8Array, offset: number, length: number): boolean {
    return this.ops.save(buf, offset, length);
  }

  /** Puts back the bytes {@link saveInput} copied. */
  restoreInput(buf: Uint8Array, offset: number, length: number): void {
    this.ops.restore(buf, offset, length);
  }

  /** Frees the device session. */
  dispose(): void {
    if (this.#ses !== 0) this.dev.freeSession(this.#ses);
    this.#ses = 0;
  }
}

/** AES-GCM on the device in plain AEAD mode (CIOCAUTHCRYPT), in place: data ‖ tag. */
export class DevAead extends DevSession implements AeadContext {
  readonly icvLength = ICV;

  /** Opens a session for `key` (16 or 32 bytes). */
  constructor(dev: CryptodevDevice, readonly alg: AeadAlg, key: Uint8Array) {
    if (alg === "chacha20poly1305") throw new CryptoError("not offered by /dev/crypto", alg);
    if (key.length !== AEAD_KEY_LENGTH[alg]) {
      throw new CryptoError(`key must be ${AEAD_KEY_LENGTH[alg]} bytes`, alg);
    }
    super(dev, CRYPTODEV_ALG.aesGcm, key, 0);
  }

  /** Whether the arguments are usable (the device must never see a bad range). */
  valid(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number) {
    return this.ses !== 0 && nonce.length === NONCE && aad.length <= this.ops.aad.length &&
      rangeOk(buf, offset, length, ICV);
  }

  /** Seal on the device; the errno (0: done). Arguments must be {@link valid}. */
  trySeal(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number) {
    this.#load(nonce, aad);
    return this.ops.aead(this.ses, true, aad.length, buf, offset, length);
  }

  /** Open on the device; the errno (0: done, EBADMSG: the tag did not verify). */
  tryOpen(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number) {
    this.#load(nonce, aad);
    return this.ops.aead(this.ses, false, aad.length, buf, offset, length);
  }

  #load(nonce: Uint8Array, aad: Uint8Array): void {
    const o = this.ops;
    for (let i = 0; i < NONCE; i++) o.iv[i] = nonce[i]!;
    for (let i = 0; i < aad.length; i++) o.aad[i] = aad[i]!;
  }

  seal(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    if (!this.valid(nonce, aad, buf, offset, length)) {
      throw new CryptoError("AEAD seal: nonce, AAD or buffer range invalid", this.alg);
    }
    const rc = this.trySeal(nonce, aad, buf, offset, length);
    if (rc !== 0) throw new CryptoError(`/dev/crypto seal failed (errno ${rc})`, this.alg);
  }

  open(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number) {
    if (!this.valid(nonce, aad, buf, offset, length)) return false;
    const rc = this.tryOpen(nonce, aad, buf, offset, length);
    if (rc === 0) return true;
    if (rc === EBADMSG) return false;
    throw new CryptoError(`/dev/crypto open failed (errno ${rc})`, this.alg);
  }
}

/** AES-CBC on the device (CIOCCRYPT), in place; the IV goes through the op's own buffer. */
export class DevCbc extends DevSession implements CipherContext {
  readonly blockSize = 16;

  /** Opens a session for `key` (16, 24 or 32 bytes). */
  constructor(dev: CryptodevDevice, readonly alg: CipherAlg, key: Uint8Array) {
    if (alg === "3descbc") throw new CryptoError("not offered by /dev/crypto", alg);
    if (key.length !== CIPHER_KEY_LENGTH[alg]) {
      throw new CryptoError(`key must be ${CIPHER_KEY_LENGTH[alg]} bytes`, alg);
    }
    super(dev, CRYPTODEV_ALG.aesCbc, key, 0);
  }

  /** Whether the arguments are usable. */
  valid(iv: Uint8Array, buf: Uint8Array, offset: number, length: number): boolean {
    return this.ses !== 0 && iv.length === 16 && rangeOk(buf, offset, length) &&
      length % 16 === 0;
  }

  /** Encrypts (or decrypts) on the device; the errno (0: done). Arguments must be valid. */
  tryRun(encrypt: boolean, iv: Uint8Array, buf: Uint8Array, offset: number, length: number) {
    if (length === 0) return 0;
    const o = this.ops;
    for (let i = 0; i < 16; i++) o.iv[i] = iv[i]!; // the device may write the last block back
    return o.cipher(this.ses, encrypt, buf, offset, length);
  }

  encrypt(iv: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    this.#run(true, iv, buf, offset, length);
  }

  decrypt(iv: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    this.#run(false, iv, buf, offset, length);
  }

  #run(encrypt: boolean, iv: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    if (!this.valid(iv, buf, offset, length)) {
      throw new CryptoError("CBC: IV length or buffer range invalid", this.alg);
    }
    const rc = this.tryRun(encrypt, iv, buf, offset, length);
    if (rc !== 0) throw new CryptoError(`/dev/crypto CBC failed (errno ${rc})`, this.alg);
  }
}

/** HMAC on the device (CIOCCRYPT on a MAC session), truncated to the ICV length. */
export class DevHmac extends DevSession implements MacContext {
  readonly icvLength: number;

  /** Opens a session for `key` (the algorithm's key length, RFC 4868 §2.1.1). */
  constructor(dev: CryptodevDevice, readonly alg: MacAlg, key: Uint8Array) {
    const m = CRYPTODEV_ALGORITHMS.get(`mac:${alg}`);
    if (m === undefined) throw new CryptoError("not offered by /dev/crypto", alg);
    const { keyLength, icvLength } = MAC_PARAMS[alg];
    if (key.length !== keyLength) throw new CryptoError(`key must be ${keyLength} bytes`, alg);
    super(dev, 0, key, m.mac);
    this.icvLength = icvLength;
  }

  /** Whether the arguments are usable. */
  valid(data: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number) {
    return this.ses !== 0 && rangeOk(data, offset, length) &&
      rangeOk(out, outOffset, this.icvLength);
  }

  /** The truncated MAC into `out`; the errno (0: done). Arguments must be valid. */
  tryCompute(
    data: Uint8Array,
    offset: number,
    length: number,
    out: Uint8Array,
    outOffset: number,
  ): number {
    const rc = this.ops.mac(this.ses, data, offset, length);
    if (rc !== 0) return rc;
    const d = this.ops.digest;
    for (let i = 0; i < this.icvLength; i++) out[outOffset + i] = d[i]!; // RFC 4868 §2.3
    return 0;
  }

  computeInto(
    data: Uint8Array,
    offset: number,
    length: number,
    out: Uint8Array,
    outOffset: number,
  ): void {
    if (!this.valid(data, offset, length, out, outOffset)) {
      throw new CryptoError("MAC: data or output range invalid", this.alg);
    }
    const rc = this.tryCompute(data, offset, length, out, outOffset);
    if (rc !== 0) throw new CryptoError(`/dev/crypto HMAC failed (errno ${rc})`, this.alg);
  }

  compute(data: Uint8Array): Uint8Array {
    return freshMac(this, data);
  }
}

/** What the device said about one algorithm when the backend probed it. */
export interface CryptodevOffer {
  /** The algorithm. */
  readonly alg: AlgorithmName;
  /** The device's session info, or the error that refused the session. */
  readonly info: CryptodevSessionInfo | { readonly error: string };
}

/** The /dev/crypto backend: the raw device contexts and what the device offers. */
export interface CryptodevBackend extends CryptoBackend {
  /** The open device. */
  readonly device: CryptodevDevice;
  /** Per algorithm this backend knows: the probe's session info or its error. */
  readonly offers: readonly CryptodevOffer[];
}

/**
 * Opens `path` and probes every algorithm with a throwaway session (zero key). Throws a
 * CryptodevError when the device cannot be opened. `library` replaces libc for the device's
 * open/ioctl/close (default: BRANCHGATE_CRYPTODEV_LIB, else libc).
 */
export function openCryptodevBackend(path: string, library?: string): CryptodevBackend {
  const device = CryptodevDevice.open(path, library);
  const offers: CryptodevOffer[] = [];
  for (const [alg, m] of CRYPTODEV_ALGORITHMS) {
    const key = new Uint8Array(keyLength(alg));
    try {
      const ses = m.cipher !== 0
        ? device.createSession(m.cipher, key, 0, EMPTY)
        : device.createSession(0, EMPTY, m.mac, key);
      try {
        offers.push({ alg, info: device.sessionInfo(ses) });
      } finally {
        device.freeSession(ses);
      }
    } catch (e) {
      offers.push({ alg, info: { error: e instanceof Error ? e.message : String(e) } });
    }
  }
  const offered = new Set(offers.filter((o) => !("error" in o.info)).map((o) => o.alg));
  const has = (alg: AlgorithmName) => offered.has(alg);
  return {
    name: "cryptodev",
    device,
    offers,
    supports: has,
    aead: (alg, key) => has(`aead:${alg}`) ? new DevAead(device, alg, key) : undefined,
    cipher: (alg, key) => has(`cipher:${alg}`) ? new DevCbc(device, alg, key) : undefined,
    mac: (alg, key) => has(`mac:${alg}`) ? new DevHmac(device, alg, key) : undefined,
    prf: () => undefined,
    hash: () => undefined,
    dh: () => undefined,
    randomBytes: () => {
      throw new CryptoError("random bytes are not taken from /dev/crypto", "random");
    },
    close: () => device.close(),
  };
}
