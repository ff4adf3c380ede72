/**
 * The child-SA state both IKE versions share: one SPI allocator for inbound ESP SPIs and one
 * child SA table (make-before-break rekeys, `show esp sa`). The engine makes one store and hands
 * it to the IKEv1 Quick Mode responder and the IKEv2 CHILD_SA tasks.
 * @module
 */

import { ChildSaTable } from "./child_sa.ts";
import { type RandomBytes, SpiAllocator } from "./spi.ts";

/** SPI allocation and the child table, shared by both versions. */
export interface ChildStore {
  /** Inbound SPIs in use (installed SAs and exchanges in flight). */
  readonly spis: SpiAllocator;
  /** Every child SA pair. */
  readonly children: ChildSaTable;
}

/** A new store drawing SPIs from `random`; a child leaving the table frees its SPI. */
export function newChildStore(random: RandomBytes): ChildStore {
  const spis = new SpiAllocator(random);
  return { spis, children: new ChildSaTable((spi) => spis.release(spi)) };
}
