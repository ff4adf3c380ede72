/**
 * The crypto backend interface shared by every backend (libcrypto through FFI, portable
 * software, /dev/crypto offload) and by every caller (IKE control plane, ESP data path).
 *
 * Two kinds of method live here:
 * - control-plane calls that allocate and return fresh arrays (`prf`, `hash`, DH), used a few
 *   times per exchange;
 * - per-key contexts for the packet path that work in place on caller-owned buffers and never
 *   allocate per call (`AeadContext`, `CipherContext`, `MacContext`).
 *
 * Algorithm names follow strongSwan's keywords so config, logs and `show` agree.
 * @module
 */

/** AEAD algorithms: AES-GCM with a 16-byte ICV (RFC 4106), ChaCha20-Poly1305 (RFC 7634). */
export type AeadAlg = "aes128gcm16" | "aes256gcm16" | "chacha20poly1305";

/** Block ciphers in CBC mode (RFC 3602, RFC 2451). Keys are the raw cipher key. */
export type CipherAlg = "aes128cbc" | "aes192cbc" | "aes256cbc" | "3descbc";

/** Truncated integrity algorithms (RFC 2404, RFC 4868, RFC 3566). */
export type MacAlg =
  | "hmac-sha1-96"
  | "hmac-sha256-128"
  | "hmac-sha384-192"
  | "hmac-sha512-256"
  | "aes-xcbc-96";

/** Pseudo-random functions (RFC 2104, RFC 4868, RFC 4434). Full-length output. */
export type PrfAlg =
  | "hmac-md5"
  | "hmac-sha1"
  | "hmac-sha256"
  | "hmac-sha384"
  | "hmac-sha512"
  | "aes-xcbc-prf128";

/** Plain hash functions (NAT-D, certificate fingerprints, update bundles). */
export type HashAlg = "md5" | "sha1" | "sha256" | "sha384" | "sha512";

/**
 * Diffie-Hellman groups by IANA number: MODP 2, 5, 14, 15, 16, 18 (RFC 2409, RFC 3526),
 * ECP 19, 20, 21 (RFC 5903), Curve25519 31 and Curve448 32 (RFC 8031).
 */
export type DhGroupId = 2 | 5 | 14 | 15 | 16 | 18 | 19 | 20 | 21 | 31 | 32;

/** Every algorithm the registry knows, as one tagged name (for KATs and selection). */
export type AlgorithmName =
  | `aead:${AeadAlg}`
  | `cipher:${CipherAlg}`
  | `mac:${MacAlg}`
  | `prf:${PrfAlg}`
  | `hash:${HashAlg}`
  | `dh:${DhGroupId}`
  | "sign:ed25519"
  | "random";

/**
 * A keyed AEAD context, created once per SA. Operations are in place on `buf`.
 *
 * Nonce: 12 bytes; for ESP it is salt(4) || IV(8) (RFC 4106 §4, RFC 7634 §2); the caller builds it.
 */
export interface AeadContext {
  /** The algorithm this context was made for. */
  readonly alg: AeadAlg;
  /** ICV length in bytes (16 for every supported AEAD). */
  readonly icvLength: number;
  /**
   * Encrypts `buf[offset, offset+length)` in place and writes the ICV to
   * `buf[offset+length, offset+length+icvLength)`.
   */
  seal(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number): void;
  /**
   * Verifies the ICV at `buf[offset+length, offset+length+icvLength)` and decrypts
   * `buf[offset, offset+length)` in place. Returns false (and leaves the plaintext undefined)
   * when the ICV does not verify. Never throws on bad input.
   */
  open(
    nonce: Uint8Array,
    aad: Uint8Array,
    buf: Uint8Array,
    offset: number,
    length: number,
  ): boolean;
  /** Releases native resources. The context must not be used afterwards. */
  dispose(): void;
}

/** A keyed CBC cipher context. `length` must be a multiple of `blockSize`; no padding is added. */
export interface CipherContext {
  /** The algorithm this context was made for. */
  readonly alg: CipherAlg;
  /** Block size in bytes (16 for AES, 8 for 3DES); also the IV length. */
  readonly blockSize: number;
  /** Encrypts `buf[offset, offset+length)` in place with `iv`. */
  encrypt(iv: Uint8Array, buf: Uint8Array, offset: number, length: number): void;
  /** Decrypts `buf[offset, offset+length)` in place with `iv`. */
  decrypt(iv: Uint8Array, buf: Uint8Array, offset: number, length: number): void;
  /** Releases native resources. */
  dispose(): void;
}

/** A keyed, truncated integrity context (ICV = first `icvLength` bytes of the MAC). */
export interface MacContext {
  /** The algorithm this context was made for. */
  readonly alg: MacAlg;
  /** Truncated output length in bytes. */
  readonly icvLength: number;
  /** Computes the truncated MAC over `data[offset, offset+length)` into `out[outOffset, …)`. */
  computeInto(
    data: Uint8Array,
    offset: number,
    length: number,
    out: Uint8Array,
    outOffset: number,
  ): void;
  /** Convenience: the truncated MAC over all of `data`, freshly allocated. */
  compute(data: Uint8Array): Uint8Array;
  /** Releases native resources. */
  dispose(): void;
}

/** A Diffie-Hellman private value with its public value (RFC 7296 §3.4 encoding). */
export interface DhKeyPair {
  /** The group this key belongs to. */
  readonly group: DhGroupId;
  /**
   * The public value as carried in a KE payload: MODP big-endian padded to the prime length;
   * ECP x||y, each padded to the field length (RFC 5903 §7); Curve25519/448 the u-coordinate.
   */
  readonly publicValue: Uint8Array;
  /**
   * The shared secret g^ir with the peer's public value, after the checks of RFC 6989
   * (MODP: 1 < y < p-1; ECP: point on curve, not infinity; X25519/X448: result not all zero).
   * Throws {@link CryptoError} when the peer value fails them.
   */
  computeShared(peerPublic: Uint8Array): Uint8Array;
}

/** A Diffie-Hellman group as offered by one backend. */
export interface DhGroup {
  /** IANA group number. */
  readonly id: DhGroupId;
  /** Length of a public value in bytes. */
  readonly publicLength: number;
  /** Generates a fresh key pair from the backend's random source. */
  generate(): DhKeyPair;
  /** For known-answer tests: a key pair from a fixed private value (big-endian / raw bytes). */
  fromPrivate(priv: Uint8Array): DhKeyPair;
}

/** One crypto implementation. Methods return undefined when the backend lacks an algorithm. */
export interface CryptoBackend {
  /** Short name shown by `selftest` ("libcrypto", "software", "cryptodev"). */
  readonly name: string;
  /** Which algorithms this backend claims; the registry then runs their KATs. */
  supports(alg: AlgorithmName): boolean;
  /** A keyed AEAD context (key without salt). */
  aead(alg: AeadAlg, key: Uint8Array): AeadContext | undefined;
  /** A keyed CBC cipher context. */
  cipher(alg: CipherAlg, key: Uint8Array): CipherContext | undefined;
  /** A keyed truncated-MAC context. */
  mac(alg: MacAlg, key: Uint8Array): MacContext | undefined;
  /** prf(key, data), full output length (RFC 2104; AES-XCBC-PRF-128 per RFC 4434 for any key length). */
  prf(alg: PrfAlg, key: Uint8Array, data: Uint8Array): Uint8Array | undefined;
  /** A plain hash. */
  hash(alg: HashAlg, data: Uint8Array): Uint8Array | undefined;
  /** A DH group. */
  dh(group: DhGroupId): DhGroup | undefined;
  /** Cryptographically secure random bytes. */
  randomBytes(n: number): Uint8Array;
  /** Releases anything the backend holds (libraries, fds). */
  close(): void;
}

/** The only error type crypto code throws for bad input or unavailable algorithms. */
export class CryptoError extends Error {
  /** Creates a crypto error; `alg` names the algorithm involved, if any. */
  constructor(message: string, readonly alg?: string) {
    super(message);
    this.name = "CryptoError";
  }
}
