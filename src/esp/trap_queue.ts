/**
 * Packets held for a `trap` peer while its tunnel is being dialled: the first packet for the
 * peer's remote_ts reports a trap hit, and up to {@link TRAP_HOLD} packets per peer wait for
 * the SA (sent once it is installed, oldest first); the rest are dropped and counted. Expired
 * holds are dropped too, so a peer that never answers cannot pin memory. Pure; the data path
 * owns one.
 * @module
 */

/** Packets held per trapped peer. */
export const TRAP_HOLD = 8;
/** Held packets older than this are dropped (ms). */
export const TRAP_HOLD_MS = 30_000;

interface Held {
  readonly since: number;
  readonly packets: Uint8Array[];
}

/** What {@link TrapQueue.offer} did with a packet. */
export type TrapOutcome = "hit" | "held" | "dropped";

/** Held packets per peer name, with drop counters. */
export class TrapQueue {
  readonly #held = new Map<string, Held>();
  /** Packets dropped because the hold was full or expired. */
  dropped = 0;

  /**
   * A packet for trapped `peer`: "hit" for the first (the caller reports the trap hit; the
   * packet is held), "held" while room is left, "dropped" once full.
   */
  offer(peer: string, packet: Uint8Array, now: number): TrapOutcome {
    this.expire(now);
    const h = this.#held.get(peer);
    if (h === undefined) {
      this.#held.set(peer, { since: now, packets: [packet.slice()] });
      return "hit";
    }
    if (h.packets.length >= TRAP_HOLD) {
      this.dropped++;
      return "dropped";
    }
    h.packets.push(packet.slice());
    return "held";
  }

  /** The SA for `peer` is in place: its held packets, oldest first (the hold is emptied). */
  release(peer: string): Uint8Array[] {
    const h = this.#held.get(peer);
    this.#held.delete(peer);
    return h?.packets ?? [];
  }

  /** Drops holds older than {@link TRAP_HOLD_MS} (a failed dial); the next packet hits again. */
  expire(now: number): void {
    for (const [peer, h] of this.#held) {
      if (now - h.since >= TRAP_HOLD_MS) {
        this.dropped += h.packets.length;
        this.#held.delete(peer);
      }
    }
  }

  /** Packets held now, all peers. */
  get size(): number {
    let n = 0;
    for (const h of this.#held.values()) n += h.packets.length;
    return n;
  }
}
