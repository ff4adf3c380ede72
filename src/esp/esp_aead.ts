/**
 * ESP framing with a combined-mode algorithm (RFC 4303 §2, §3.3, §3.4.4.2), in place on
 * caller-owned buffers: AES-GCM-16 (RFC 4106) and ChaCha20-Poly1305 (RFC 7634).
 *
 *   SPI(4) | Seq(4) | IV(8) | inner packet | padding | pad length(1) | next header(1) | ICV(16)
 *
 * The nonce is salt(4) || IV(8) (RFC 4106 §4, RFC 7634 §2); the AAD is SPI || Seq, or
 * SPI || Seq(high) || Seq(low) with ESN (RFC 4106 §5). Sequence numbers serve as IVs: unique
 * per key, as RFC 4106 §3.1 requires. Nothing here allocates per packet.
 * @module
 */

import type { AeadContext } from "../crypto/types.ts";
import { SaCounters } from "./counters.ts";
import { REJECT, ReplayWindow } from "./replay.ts";
import {
  type Decapsulated,
  getU32,
  type InboundSa,
  type OutboundSa,
  putU32,
  readTrailer,
  writeTrailer,
} from "./esp_sa.ts";

/** Bytes before the inner packet. */
export const ESP_HEADER = 16; // SPI, Seq, IV
/** ICV length of every supported AEAD. */
export const ESP_ICV = 16;
/** Worst-case bytes after the inner packet: up to 3 pad bytes, 2 trailer bytes, the ICV. */
export const ESP_MAX_TRAILER = 3 + 2 + ESP_ICV;

export { type Decapsulated, NEXT_IPV4, NEXT_IPV6, NEXT_NONE } from "./esp_sa.ts";

/** Nonce and AAD scratch, shared by every SA of this module instance (one per thread): filled
 * per packet, as each packet's nonce and AAD differ anyway, so an SA owns no buffers for them. */
const NONCE = new Uint8Array(12);
const NONCE_VIEW = new DataView(NONCE.buffer);
const AAD = new Uint8Array(8);
const AAD_VIEW = new DataView(AAD.buffer);
const AAD_ESN = new Uint8Array(12);
const AAD_ESN_VIEW = new DataView(AAD_ESN.buffer);

/** The crypto state both directions share. */
abstract class AeadSaBase {
  readonly counters = new SaCounters();
  /** The 4-byte salt as a big-endian number. */
  readonly #salt: number;

  constructor(
    readonly spi: number,
    protected readonly aead: AeadContext,
    salt: Uint8Array,
    readonly esn: boolean,
  ) {
    if (salt.length !== 4) throw new RangeError("AEAD salt must be 4 bytes");
    this.#salt = getU32(salt, 0);
  }

  /** The shared nonce with this SA's salt and the 8-byte IV at `buf[at, at+8)` (RFC 4106 §4). */
  protected nonceFor(buf: Uint8Array, at: number): Uint8Array {
    NONCE_VIEW.setUint32(0, this.#salt);
    for (let i = 0; i < 8; i++) NONCE[4 + i] = buf[at + i]!;
    return NONCE;
  }

  /** The shared AAD for the 64-bit sequence number `seq` (RFC 4106 §5). */
  protected aadFor(seq: number): Uint8Array {
    if (this.esn) {
      AAD_ESN_VIEW.setUint32(0, this.spi >>> 0);
      AAD_ESN_VIEW.setUint32(4, Math.floor(seq / 0x1_0000_0000));
      AAD_ESN_VIEW.setUint32(8, seq >>> 0);
      return AAD_ESN;
    }
    AAD_VIEW.setUint32(0, this.spi >>> 0);
    AAD_VIEW.setUint32(4, seq >>> 0);
    return AAD;
  }

  /** Releases the cipher context. */
  dispose(): void {
    this.aead.dispose();
  }
}

/** An outbound AEAD SA: sequence numbering and encapsulation. */
export class OutboundAeadSa extends AeadSaBase implements OutboundSa {
  #seq = 0;
  /** SPI, Seq and the 8-byte IV. */
  readonly headerLength = ESP_HEADER;

  /** The last sequence number sent (0 before the first packet). */
  get lastSeq(): number {
    return this.#seq;
  }

  /**
   * Encapsulates the inner packet at `buf[innerOffset, innerOffset+innerLength)`: writes the
   * ESP header into the `ESP_HEADER` bytes before it and the trailer and ICV after it (the
   * caller leaves that room). Returns the length of the ESP packet, which starts at
   * `innerOffset - ESP_HEADER`, or -1 when the sequence number space is exhausted (RFC 4303
   * §3.3.3: the SA must be rekeyed, never cycled).
   */
  encapsulate(
    buf: Uint8Array,
    innerOffset: number,
    innerLength: number,
    nextHeader: number,
  ): number {
    const limit = this.esn ? Number.MAX_SAFE_INTEGER : 0xffff_ffff;
    if (this.#seq >= limit) return -1;
    const seq = ++this.#seq;
    const start = innerOffset - ESP_HEADER;
    // RFC 4303 §2.4: the trailer ends on a 4-byte boundary (a stream cipher needs no more).
    const p = writeTrailer(buf, innerOffset + innerLength, innerLength, 4, nextHeader);
    const plainLength = p - innerOffset;

    putU32(buf, start, this.spi);
    putU32(buf, start + 4, seq);
    putU32(buf, start + 8, Math.floor(seq / 0x1_0000_0000)); // IV = 64-bit sequence number
    putU32(buf, start + 12, seq);
    this.aead.seal(this.nonceFor(buf, start + 8), this.aadFor(seq), buf, innerOffset, plainLength);
    this.counters.packets++;
    this.counters.bytes += innerLength;
    return ESP_HEADER + plainLength + ESP_ICV;
  }
}

/** An inbound AEAD SA: replay protection and decapsulation. */
export class InboundAeadSa extends AeadSaBase implements InboundSa {
  readonly replay: ReplayWindow;
  /** Reused result object (no per-packet allocation). */
  readonly #out: Decapsulated = { offset: 0, length: 0, nextHeader: 0, seq: 0 };

  constructor(
    spi: number,
    aead: AeadContext,
    salt: Uint8Array,
    esn: boolean,
    replayWindow: number,
  ) {
    super(spi, aead, salt, esn);
    this.replay = new ReplayWindow(replayWindow, esn);
  }

  /**
   * Decapsulates the ESP packet at `buf[offset, offset+length)` (SPI already matched) in place,
   * following RFC 4303 §3.4.3–3.4.4: replay pre-check, ICV and decryption, window update,
   * padding and next-header checks. Returns the inner packet's place (valid until the next
   * call), or undefined after counting the drop. Never throws on bad input. Delivered packets
   * are counted by the caller, after its policy check.
   */
  decapsulate(buf: Uint8Array, offset: number, length: number): Decapsulated | undefined {
    const c = this.counters;
    if (length < ESP_HEADER + 2 + ESP_ICV || offset < 0 || offset + length > buf.length) {
      c.drop("short");
      return undefined;
    }
    const seq = this.replay.check(getU32(buf, offset + 4));
    if (seq === REJECT) {
      c.drop("replay");
      return undefined;
    }
    const cipherOffset = offset + ESP_HEADER;
    const cipherLength = length - ESP_HEADER - ESP_ICV;
    const nonce = this.nonceFor(buf, offset + 8);
    if (!this.aead.open(nonce, this.aadFor(seq), buf, cipherOffset, cipherLength)) {
      c.drop("icv");
      return undefined;
    }
    if (!this.replay.accept(seq)) {
      c.drop("replay");
      return undefined;
    }
    const out = this.#out;
    return readTrailer(buf, cipherOffset, cipherLength, seq, c, out) ? out : undefined;
  }
}
