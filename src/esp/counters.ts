/**
 * Mutable per-SA counters kept by the data path (reported as `EspSaCounters`).
 * @module
 */

/** Why an inbound packet was dropped; each has its own counter. */
export type DropReason = "short" | "replay" | "icv" | "padding" | "policy" | "inner";

/** Per-SA counters, updated in place on the packet path. */
export class SaCounters {
  /** Packets processed successfully. */
  packets = 0;
  /** Inner bytes processed successfully. */
  bytes = 0;
  /** Replayed or too-old packets. */
  replayDrops = 0;
  /** Packets whose ICV did not verify. */
  icvFailures = 0;
  /** Packets whose inner header did not match the SA's selectors. */
  policyDrops = 0;
  /** Packets too short, with bad padding, or with a malformed inner packet. */
  malformedDrops = 0;

  /** Counts one dropped packet under its reason. */
  drop(reason: DropReason): void {
    switch (reason) {
      case "replay":
        this.replayDrops++;
        break;
      case "icv":
        this.icvFailures++;
        break;
      case "policy":
        this.policyDrops++;
        break;
      default:
        this.malformedDrops++;
    }
  }
}
