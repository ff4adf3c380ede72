/**
 * Bounds-checked big-endian reader over a byte view. Every read checks the remaining length
 * first and throws {@link DecodeError} (naming the payload and the absolute byte offset) when the
 * input is short; it never reads past its window. Returned byte fields are subarray views of the
 * input, not copies. Used inside decoders that are wrapped by `decodeTotal`.
 * @module
 */

import { DecodeError, type DecodeErrorCode } from "./errors.ts";

/** A cursor over `bytes`, reporting offsets as `base + position` and errors under `payload`. */
export class Reader {
  readonly #bytes: Uint8Array;
  readonly #base: number;
  readonly #payload: string;
  #pos = 0;

  /**
   * Reads `bytes`, whose first byte sits at absolute offset `base` of the message; `payload`
   * names the structure in errors.
   */
  constructor(bytes: Uint8Array, base: number, payload: string) {
    this.#bytes = bytes;
    this.#base = base;
    this.#payload = payload;
  }

  /** Absolute offset of the next unread byte. */
  get offset(): number {
    return this.#base + this.#pos;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  /** Position of the next unread byte within this reader's window. */
  get position(): number {
    return this.#pos;
  }

  /** A view of the bytes read since `position` was `from`. */
  viewFrom(from: number): Uint8Array {
    return this.#bytes.subarray(Math.min(Math.max(from, 0), this.#pos), this.#pos);
  }

  /** The structure name errors carry. */
  get payload(): string {
    return this.#payload;
  }

  /** A DecodeError at the current offset (or `at`) for this reader's payload. */
  error(reason: string, code: DecodeErrorCode, at = this.offset, type?: number): DecodeError {
    return new DecodeError(this.#payload, at, reason, code, type);
  }

  #need(n: number, what: string): void {
    if (n > this.remaining) {
      throw this.error(`${what} needs ${n} bytes, ${this.remaining} left`, "truncated");
    }
  }

  /** One octet. */
  u8(what = "field"): number {
    this.#need(1, what);
    return this.#bytes[this.#pos++]!;
  }

  /** Two octets, network order. */
  u16(what = "field"): number {
    this.#need(2, what);
    const b = this.#bytes, p = this.#pos;
    this.#pos += 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  /** Four octets, network order, as an unsigned number. */
  u32(what = "field"): number {
    this.#need(4, what);
    const b = this.#bytes, p = this.#pos;
    this.#pos += 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /** `n` octets as a view. */
  bytes(n: number, what = "field"): Uint8Array {
    this.#need(n, what);
    const v = this.#bytes.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return v;
  }

  /** Skips `n` octets (reserved fields). */
  skip(n: number, what = "reserved field"): void {
    this.#need(n, what);
    this.#pos += n;
  }

  /** Everything not read yet, as a view. */
  rest(): Uint8Array {
    const v = this.#bytes.subarray(this.#pos);
    this.#pos = this.#bytes.length;
    return v;
  }

  /**
   * A sub-reader over the next `n` octets (a nested structure such as one transform), reporting
   * errors under `payload`; this reader moves past them.
   */
  sub(n: number, payload: string, what = payload): Reader {
    const at = this.#base + this.#pos;
    return new Reader(this.bytes(n, what), at, payload);
  }

  /** Throws unless every byte has been read (`what` says what the bytes would have been). */
  end(what = "trailing bytes"): void {
    if (this.remaining !== 0) {
      throw this.error(`${this.remaining} ${what} left over`, "trailing-bytes");
    }
  }
}
