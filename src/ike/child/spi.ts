/**
 * Inbound ESP SPI allocation for Quick Mode responses: random 32-bit values, never 0..255
 * (reserved by IANA, RFC 4303 §2.1), never one that an installed SA or a half-open exchange
 * still holds.
 * @module
 */

/** Source of random bytes (the crypto registry's `randomBytes`, or a seeded one in tests). */
export type RandomBytes = (n: number) => Uint8Array;

/** The allocator could not find a free SPI (only with a broken random source). */
export class SpiExhaustedError extends Error {
  /** Creates the error. */
  constructor() {
    super("no free ESP SPI after many random draws");
    this.name = "SpiExhaustedError";
  }
}

/** The lowest SPI we hand out: 1..255 are reserved, 0 is never an SPI (RFC 4303 §2.1). */
export const MIN_SPI = 256;

const MAX_DRAWS = 64;

/** Tracks which inbound SPIs are held and draws fresh ones. */
export class SpiAllocator {
  readonly #held = new Set<number>();

  /** An allocator drawing from `random`. */
  constructor(private readonly random: RandomBytes) {}

  /**
   * A fresh SPI, held until {@link release}. Throws {@link SpiExhaustedError} only when the
   * random source keeps returning reserved or held values.
   */
  allocate(): number {
    for (let i = 0; i < MAX_DRAWS; i++) {
      const b = this.random(4);
      if (b.length < 4) break;
      const spi = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
      if (spi < MIN_SPI || this.#held.has(spi)) continue;
      this.#held.add(spi);
      return spi;
    }
    throw new SpiExhaustedError();
  }

  /** Lets `spi` be drawn again (its SA and every exchange using it are gone). */
  release(spi: number): void {
    this.#held.delete(spi);
  }

  /** True while `spi` is held. */
  holds(spi: number): boolean {
    return this.#held.has(spi);
  }

  /** How many SPIs are held. */
  get size(): number {
    return this.#held.size;
  }
}

/** An SPI as the 4 octets carried in proposals, Notify and Delete payloads (network order). */
export function spiBytes(spi: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, spi >>> 0);
  return out;
}

/** The SPI in 4 network-order octets as a number; undefined unless exactly 4 octets. */
export function spiNumber(bytes: Uint8Array): number | undefined {
  if (bytes.length !== 4) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}

/** An SPI as text for logs and `show` ("c0ffee01"). */
export function spiHex(spi: number): string {
  return (spi >>> 0).toString(16).padStart(8, "0");
}
