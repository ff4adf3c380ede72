/**
 * Pooled packet memory for the data path: a fixed number of slots, each big enough for an inner
 * packet of the TUN MTU plus the ESP header in front and the trailer and ICV behind, so
 * encapsulation and decapsulation work in place. Allocated once per Worker.
 * @module
 */

import type { PacketSlots } from "../../hw/mmsg.ts";

/** Default slots per batch: packets handled per wake-up and per system call. */
export const DEFAULT_BATCH = 64;

/** Bytes reserved in front of every inner packet: SPI, sequence number and the largest IV. */
export const HEADROOM = 32;

/** Bytes reserved behind it: the largest padding (block − 1), pad length, next header, ICV. */
export const TAILROOM = 16 + 2 + 32;

/** A batch of packet slots (see `PacketSlots` in hw/mmsg.ts for the field meanings). */
export class PacketBatch implements PacketSlots {
  readonly capacity: number;
  readonly slotSize: number;
  readonly data: Uint8Array;
  readonly start: Int32Array;
  readonly length: Int32Array;
  readonly family: Uint8Array;
  readonly address: Uint8Array;
  readonly port: Uint16Array;
  readonly tag: Int16Array;

  /**
   * @param capacity number of slots
   * @param maxPacket the largest datagram or inner packet a slot must hold (without headroom)
   */
  constructor(capacity: number, maxPacket: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1024) {
      throw new RangeError(`batch size must be 1..1024, got ${capacity}`);
    }
    if (!Number.isInteger(maxPacket) || maxPacket < 576 || maxPacket > 65535) {
      throw new RangeError(`packet size must be 576..65535, got ${maxPacket}`);
    }
    this.capacity = capacity;
    // Round up to a cache line so slots never share one.
    this.slotSize = (HEADROOM + maxPacket + TAILROOM + 63) & ~63;
    this.data = new Uint8Array(capacity * this.slotSize);
    this.start = new Int32Array(capacity);
    this.length = new Int32Array(capacity);
    this.family = new Uint8Array(capacity);
    this.address = new Uint8Array(capacity * 16);
    this.port = new Uint16Array(capacity);
    this.tag = new Int16Array(capacity);
  }
}
