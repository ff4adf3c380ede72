/**
 * ESP framing with separate confidentiality and integrity algorithms (RFC 4303 §3.3.2.1,
 * §3.4.4.1), in place on caller-owned buffers: a CBC cipher (AES, RFC 3602; 3DES, RFC 2451)
 * with a truncated MAC (HMAC-SHA1-96 RFC 2404, HMAC-SHA-256-128 RFC 4868, AES-XCBC-96 RFC 3566).
 *
 *   SPI(4) | Seq(4) | IV(block) | inner packet | padding | pad length | next header | ICV
 *
 * Encrypt first, then the ICV over SPI … Next Header, with the high 32 bits of an extended
 * sequence number appended for the computation only (RFC 4303 §3.3.2.1 step 4, RFC 4304 §2).
 * The receiver verifies the ICV before it decrypts. IVs are random (RFC 3602 §2.3), drawn
 * from a pool refilled from the system CSPRNG, so no packet allocates.
 * @module
 */

import type { CipherContext, MacContext } from "../crypto/types.ts";
import { SaCounters } from "./counters.ts";
import {
  type Decapsulated,
  getU32,
  type InboundSa,
  type OutboundSa,
  putU32,
  readTrailer,
  writeTrailer,
} from "./esp_sa.ts";
import { REJECT, ReplayWindow } from "./replay.ts";

const TWO_32 = 0x1_0000_0000;
const POOL = 4096;

/** The keyed contexts both directions share. */
abstract class CbcSaBase {
  readonly counters = new SaCounters();
  /** SPI, Seq and an IV of one cipher block. */
  readonly headerLength: number;
  protected readonly iv: Uint8Array;
  protected readonly icv: Uint8Array;

  constructor(
    readonly spi: number,
    protected readonly cipher: CipherContext,
    protected readonly mac: MacContext,
    readonly esn: boolean,
  ) {
    this.headerLength = 8 + cipher.blockSize;
    this.iv = new Uint8Array(cipher.blockSize);
    this.icv = new Uint8Array(mac.icvLength);
  }

  /**
   * Computes the ICV over `buf[start, end)` (+ Seq high with ESN, written at `end` first) into
   * `this.icv`. `buf` needs 4 spare bytes at `end` (the ICV's own place).
   */
  protected computeIcv(buf: Uint8Array, start: number, end: number, seq: number): void {
    let length = end - start;
    if (this.esn) {
      putU32(buf, end, Math.floor(seq / TWO_32));
      length += 4;
    }
    this.mac.computeInto(buf, start, length, this.icv, 0);
  }

  /** Releases the cipher and MAC contexts. */
  dispose(): void {
    this.cipher.dispose();
    this.mac.dispose();
  }
}

/** An outbound CBC + MAC SA. */
export class OutboundCbcSa extends CbcSaBase implements OutboundSa {
  #seq = 0;
  readonly #pool = new Uint8Array(POOL);
  #poolAt = POOL;

  /** The last sequence number sent (0 before the first packet). */
  get lastSeq(): number {
    return this.#seq;
  }

  /** See {@link OutboundSa.encapsulate}; the caller leaves room for padding up to a block. */
  encapsulate(
    buf: Uint8Array,
    innerOffset: number,
    innerLength: number,
    nextHeader: number,
  ): number {
    const limit = this.esn ? Number.MAX_SAFE_INTEGER : 0xffff_ffff;
    if (this.#seq >= limit) return -1;
    const seq = ++this.#seq;
    const bs = this.cipher.blockSize;
    const start = innerOffset - this.headerLength;
    // RFC 4303 §2.4: payload, padding, pad length and next header fill whole cipher blocks.
    const end = writeTrailer(buf, innerOffset + innerLength, innerLength, bs, nextHeader);
    if (this.#poolAt + bs > POOL) {
      crypto.getRandomValues(this.#pool);
      this.#poolAt = 0;
    }
    for (let i = 0; i < bs; i++) {
      const b = this.#pool[this.#poolAt++]!;
      this.iv[i] = b;
      buf[start + 8 + i] = b;
    }
    putU32(buf, start, this.spi);
    putU32(buf, start + 4, seq);
    this.cipher.encrypt(this.iv, buf, innerOffset, end - innerOffset);
    this.computeIcv(buf, start, end, seq);
    buf.set(this.icv, end);
    this.counters.packets++;
    this.counters.bytes += innerLength;
    return end - start + this.icv.length;
  }
}

/** An inbound CBC + MAC SA. */
export class InboundCbcSa extends CbcSaBase implements InboundSa {
  readonly replay: ReplayWindow;
  readonly #received: Uint8Array;
  readonly #out: Decapsulated = { offset: 0, length: 0, nextHeader: 0, seq: 0 };

  constructor(
    spi: number,
    cipher: CipherContext,
    mac: MacContext,
    esn: boolean,
    replayWindow: number,
  ) {
    super(spi, cipher, mac, esn);
    this.replay = new ReplayWindow(replayWindow, esn);
    this.#received = new Uint8Array(mac.icvLength);
  }

  /** RFC 4303 §3.4.3, §3.4.4.1: replay pre-check, ICV, decryption, window, trailer. */
  decapsulate(buf: Uint8Array, offset: number, length: number): Decapsulated | undefined {
    const c = this.counters;
    const bs = this.cipher.blockSize;
    const icvLength = this.icv.length;
    const cipherLength = length - this.headerLength - icvLength;
    if (
      offset < 0 || offset + length > buf.length || cipherLength < bs || cipherLength % bs !== 0
    ) {
      c.drop("short");
      return undefined;
    }
    const seq = this.replay.check(getU32(buf, offset + 4));
    if (seq === REJECT) {
      c.drop("replay");
      return undefined;
    }
    const icvAt = offset + length - icvLength;
    const received = this.#received;
    for (let i = 0; i < icvLength; i++) received[i] = buf[icvAt + i]!;
    this.computeIcv(buf, offset, icvAt, seq);
    let diff = 0; // constant time: look at every byte
    for (let i = 0; i < icvLength; i++) diff |= received[i]! ^ this.icv[i]!;
    if (diff !== 0) {
      c.drop("icv");
      return undefined;
    }
    if (!this.replay.accept(seq)) {
      c.drop("replay");
      return undefined;
    }
    for (let i = 0; i < bs; i++) this.iv[i] = buf[offset + 8 + i]!;
    const cipherOffset = offset + this.headerLength;
    this.cipher.decrypt(this.iv, buf, cipherOffset, cipherLength);
    const out = this.#out;
    return readTrailer(buf, cipherOffset, cipherLength, seq, c, out) ? out : undefined;
  }
}
