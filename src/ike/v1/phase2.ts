/**
 * Everything Phase 2 for the IKEv1 responder behind one object: Quick Mode exchanges, ESP
 * Deletes from the peer (RFC 2408 §3.15, §4.8), IKE SA deletion (children stay until their
 * lifetime, RFC 2409 §5.5), lifetime events from the data path, `clear`/shutdown and the
 * `show esp sa` view. The dispatcher (src/ike/responder.ts) calls it; it reaches the outside
 * only through {@link QmHost}.
 * @module
 */

import type { EspLifetimeEvent } from "../../esp/sa_spec.ts";
import type { ChildSaView } from "../actions.ts";
import { DoiV1, ProtocolV1 } from "../message/v1/registry.ts";
import type { ChildSa } from "../child/child_sa.ts";
import type { ChildStore } from "../child/store.ts";
import { type QmHost, type QmIkeSa, type QmMessage, QuickModeResponder } from "./quick_mode.ts";
import { spiBytes, spiHex, spiNumber } from "../child/spi.ts";

/** Phase 2 state of the whole responder. */
export class Phase2 {
  /** The Quick Mode engine and the child SA table. */
  readonly qm: QuickModeResponder;

  /** Phase 2 drawing SPIs from `random`, over the engine's shared child `store` if given. */
  constructor(random: (n: number) => Uint8Array, store?: ChildStore) {
    this.qm = new QuickModeResponder(random, store);
  }

  /** One decrypted Quick Mode message (exchange type 32). */
  handleQuickMode(host: QmHost, sa: QmIkeSa, msg: QmMessage, now: number): void {
    this.qm.handle(host, sa, msg, now);
  }

  /**
   * A Delete payload for protocol ESP (or AH) received on `sa`: each named SPI's child loses
   * both directions; an unknown SPI is only logged (INVALID_SPI, RFC 2408 §3.14.1).
   */
  deleteSpis(host: QmHost, sa: QmIkeSa, protocol: number, spis: readonly Uint8Array[]): void {
    const peer = sa.peer.name;
    if (protocol !== ProtocolV1.ESP) {
      host.event("warn", peer, `Delete for protocol ${protocol} ignored (only ESP SAs exist)`);
      return;
    }
    for (const raw of spis) {
      const spi = spiNumber(raw);
      const child = spi === undefined ? undefined : this.qm.children.findBySpi(peer, spi);
      if (child === undefined) {
        host.event("warn", peer, "INVALID_SPI: Delete names no ESP SA of this peer", {
          spi: spi === undefined ? `${raw.length} octets` : spiHex(spi),
        });
        continue;
      }
      this.#remove(host, child, "deleted by the peer");
    }
  }

  #remove(host: QmHost, child: ChildSa, why: string): void {
    for (const a of this.qm.children.remove(child.childId)) host.emit(a);
    host.event("info", child.peer, `child SA ${why}`, {
      childId: child.childId,
      spiIn: spiHex(child.inbound.spi),
      spiOut: spiHex(child.outbound.spi),
    });
  }

  /** The ISAKMP SA `saKey` was deleted: half-open Quick Modes go, children stay. */
  ikeSaDeleted(saKey: string): void {
    this.qm.ikeSaDeleted(saKey);
  }

  /**
   * A lifetime event from the data path. Soft: the initiator rekeys, we only log. Hard: the
   * data path removed that SA; the other direction goes too and the peer gets an ESP Delete
   * naming our inbound SPI while an IKE SA with it lives.
   */
  espLifetime(host: QmHost, event: EspLifetimeEvent): void {
    const child = this.qm.children.get(event.childId);
    if (child === undefined) return;
    if (event.kind === "soft") {
      host.event("info", child.peer, "child SA soft lifetime reached; the initiator rekeys", {
        childId: child.childId,
        spi: spiHex(event.spi),
        direction: event.direction,
      });
      return;
    }
    const r = this.qm.children.expired(event.childId, event.spi, event.direction);
    if (r.child === undefined) return;
    for (const a of r.actions) host.emit(a);
    host.event("info", child.peer, "child SA expired (hard lifetime)", {
      childId: child.childId,
      spi: spiHex(event.spi),
      direction: event.direction,
    });
    this.#sendDelete(host, child);
  }

  #sendDelete(host: QmHost, child: ChildSa): void {
    const sa = host.liveIkeSa(child.peer);
    if (sa === undefined) return;
    // RFC 2408 §3.15: the SPI of the SA the receiver should remove: its outbound = our inbound.
    host.sendInformational(sa, {
      kind: "d",
      doi: DoiV1.IPSEC,
      protocol: ProtocolV1.ESP,
      spiSize: 4,
      spis: [spiBytes(child.inbound.spi)],
    });
  }

  /**
   * `clear ike sa` / a removed peer / shutdown: every child of `peer` is deleted and, unless
   * `notify` is false (INITIAL-CONTACT, a dead peer), the peer is told with an ESP Delete while
   * an IKE SA lives. Call before deleting the peer's IKE SAs.
   */
  deletePeer(host: QmHost, peer: string, notify = true): void {
    for (const c of this.qm.children.forPeer(peer)) {
      if (notify) this.#sendDelete(host, c);
      this.#remove(host, c, notify ? "deleted (cleared)" : "dropped");
    }
  }

  /** Timers: half-open Quick Modes expire. */
  tick(host: QmHost, now: number): void {
    this.qm.tick(host, now);
  }

  /** The earliest Phase 2 deadline. */
  nextDeadline(): number | undefined {
    return this.qm.nextDeadline();
  }

  /** Rows for `show esp sa`. */
  childSas(now: number): ChildSaView[] {
    return this.qm.children.views(now);
  }

  /** Child SA count per peer (for `show peers`). */
  childCount(peer: string): number {
    return this.qm.children.forPeer(peer).length;
  }
}
