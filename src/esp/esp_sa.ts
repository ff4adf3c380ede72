/**
 * What every ESP SA offers the SA database, whatever its transform, and the framing steps the
 * transforms share: the RFC 4303 §2.4 padding, written and checked in place, and the
 * Next Header check of §2.6.
 * @module
 */

import type { SaCounters } from "./counters.ts";
import type { ReplayWindow } from "./replay.ts";

/** IP protocol numbers carried in the Next Header field (RFC 4303 §2.6). */
export const NEXT_IPV4 = 4;
/** IPv6 inner packet. */
export const NEXT_IPV6 = 41;
/** Dummy packet for traffic flow confidentiality, dropped silently (RFC 4303 §2.6). */
export const NEXT_NONE = 59;

/** Where a decapsulated inner packet lies in the buffer. */
export interface Decapsulated {
  /** Offset of the inner packet. */
  offset: number;
  /** Length of the inner packet (without padding). */
  length: number;
  /** Next Header: 4 (IPv4) or 41 (IPv6). */
  nextHeader: number;
  /** The full (64-bit) sequence number. */
  seq: number;
}

/** An outbound SA: sequence numbering and encapsulation in place. */
export interface OutboundSa {
  /** SPI. */
  readonly spi: number;
  /** Counters. */
  readonly counters: SaCounters;
  /** Bytes the ESP header takes in front of the inner packet (SPI, Seq, IV). */
  readonly headerLength: number;
  /** The last sequence number sent. */
  readonly lastSeq: number;
  /**
   * Encapsulates the inner packet at `buf[innerOffset, innerOffset+innerLength)`: writes the
   * header into the `headerLength` bytes before it and the trailer and ICV after it. Returns
   * the ESP packet's length (it starts at `innerOffset - headerLength`), or -1 when the
   * sequence numbers are exhausted (RFC 4303 §3.3.3: rekey, never cycle).
   */
  encapsulate(
    buf: Uint8Array,
    innerOffset: number,
    innerLength: number,
    nextHeader: number,
  ): number;
  /** Releases the cipher contexts. */
  dispose(): void;
}

/** An inbound SA: replay protection and decapsulation in place. */
export interface InboundSa {
  /** SPI. */
  readonly spi: number;
  /** Counters. */
  readonly counters: SaCounters;
  /** The anti-replay window. */
  readonly replay: ReplayWindow;
  /**
   * Decapsulates the ESP packet at `buf[offset, offset+length)` (SPI already matched). Returns
   * the inner packet's place (valid until the next call), or undefined after counting the drop.
   * Never throws on bad input.
   */
  decapsulate(buf: Uint8Array, offset: number, length: number): Decapsulated | undefined;
  /** Releases the cipher contexts. */
  dispose(): void;
}

/** Writes a big-endian u32. */
export function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

/** Reads a big-endian u32. */
export function getU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/**
 * Writes padding 1, 2, 3, …, the pad length and the next header after the payload at
 * `buf[end…]` so that payload + padding + 2 is a multiple of `align` (RFC 4303 §2.4); returns
 * the offset just past the Next Header byte.
 */
export function writeTrailer(
  buf: Uint8Array,
  end: number,
  payloadLength: number,
  align: number,
  nextHeader: number,
): number {
  const padLength = (align - ((payloadLength + 2) % align)) % align;
  let p = end;
  for (let i = 1; i <= padLength; i++) buf[p++] = i;
  buf[p++] = padLength;
  buf[p++] = nextHeader;
  return p;
}

/**
 * Checks the decrypted trailer of `buf[plainOffset, plainOffset+plainLength)` (RFC 4303 §2.4,
 * §2.6) and fills `out`; returns false after counting the drop in `counters`, or for a dummy
 * packet (Next Header 59, discarded silently).
 */
export function readTrailer(
  buf: Uint8Array,
  plainOffset: number,
  plainLength: number,
  seq: number,
  counters: SaCounters,
  out: Decapsulated,
): boolean {
  const nextHeader = buf[plainOffset + plainLength - 1]!;
  const padLength = buf[plainOffset + plainLength - 2]!;
  const innerLength = plainLength - 2 - padLength;
  if (innerLength < 0) {
    counters.drop("padding");
    return false;
  }
  // RFC 4303 §2.4: the receiver checks the monotonic padding pattern 1, 2, 3, …
  for (let i = 0; i < padLength; i++) {
    if (buf[plainOffset + innerLength + i] !== i + 1) {
      counters.drop("padding");
      return false;
    }
  }
  if (nextHeader === NEXT_NONE) return false; // dummy packet: discard silently (§2.6)
  if (nextHeader !== NEXT_IPV4 && nextHeader !== NEXT_IPV6) {
    counters.drop("inner");
    return false;
  }
  out.offset = plainOffset;
  out.length = innerLength;
  out.nextHeader = nextHeader;
  out.seq = seq;
  return true;
}
