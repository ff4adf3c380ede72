/**
 * Growable big-endian byte writer with range-checked fields and in-place patching of length
 * fields. Encoders throw {@link EncodeError} for values a field cannot hold.
 * @module
 */

import { EncodeError } from "./errors.ts";

/** Appends fields to a buffer that grows as needed; `finish()` returns the written bytes. */
export class Writer {
  #buf: Uint8Array;
  #len = 0;

  /** Starts with room for `capacity` bytes (it grows beyond as needed). */
  constructor(capacity = 256) {
    this.#buf = new Uint8Array(capacity);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }

  #room(n: number): number {
    const at = this.#len;
    if (at + n > this.#buf.length) {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, at + n));
      next.set(this.#buf.subarray(0, at));
      this.#buf = next;
    }
    this.#len = at + n;
    return at;
  }

  static #check(v: number, max: number, what: string): void {
    if (!Number.isInteger(v) || v < 0 || v > max) {
      throw new EncodeError(what, `value ${v} outside 0..${max}`);
    }
  }

  /** One octet. */
  u8(v: number, what = "octet"): this {
    Writer.#check(v, 0xff, what);
    // #room may replace #buf: take the offset first (`this.#buf[this.#room(1)]` would read the
    // old buffer before #room runs and write the octet into it).
    const at = this.#room(1);
    this.#buf[at] = v;
    return this;
  }

  /** Two octets, network order. */
  u16(v: number, what = "16-bit field"): this {
    Writer.#check(v, 0xffff, what);
    this.#put16(this.#room(2), v);
    return this;
  }

  /** Four octets, network order. */
  u32(v: number, what = "32-bit field"): this {
    Writer.#check(v, 0xffffffff, what);
    this.#put32(this.#room(4), v);
    return this;
  }

  /** Raw bytes. */
  bytes(b: Uint8Array): this {
    // #room may replace #buf: take the offset first, then write into the current buffer.
    const at = this.#room(b.length);
    this.#buf.set(b, at);
    return this;
  }

  /** `n` zero octets (reserved fields, placeholders). */
  zeros(n: number): this {
    const at = this.#room(n);
    this.#buf.fill(0, at, this.#len);
    return this;
  }

  #put16(at: number, v: number): void {
    this.#buf[at] = v >>> 8;
    this.#buf[at + 1] = v & 0xff;
  }

  #put32(at: number, v: number): void {
    this.#buf[at] = v >>> 24;
    this.#buf[at + 1] = (v >>> 16) & 0xff;
    this.#buf[at + 2] = (v >>> 8) & 0xff;
    this.#buf[at + 3] = v & 0xff;
  }

  /** Overwrites the two octets at `at` (a length field written earlier as a placeholder). */
  patch16(at: number, v: number, what = "length field"): void {
    Writer.#check(v, 0xffff, what);
    if (at < 0 || at + 2 > this.#len) throw new EncodeError(what, `patch offset ${at} outside`);
    this.#put16(at, v);
  }

  /** Overwrites the four octets at `at`. */
  patch32(at: number, v: number, what = "length field"): void {
    Writer.#check(v, 0xffffffff, what);
    if (at < 0 || at + 4 > this.#len) throw new EncodeError(what, `patch offset ${at} outside`);
    this.#put32(at, v);
  }

  /** Overwrites the octet at `at`. */
  patch8(at: number, v: number, what = "octet"): void {
    Writer.#check(v, 0xff, what);
    if (at < 0 || at >= this.#len) throw new EncodeError(what, `patch offset ${at} outside`);
    this.#buf[at] = v;
  }

  /** A copy of the bytes written, trimmed to length. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
