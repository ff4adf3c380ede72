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
import { type QmOutcome, QuickModeInitiator } from "./quick_mode_initiator.ts";

/** Phase 2 state of the whole responder. */
export class Phase2 {
  /** The Quick Mode engine and the child SA table. */
  readonly qm: QuickModeResponder;
  /** Our own Quick Modes as initiator (same SPIs and child table). */
  readonly qmi: QuickModeInitiator;
  /** Outcomes of our Quick Modes for the dispatcher to report (drained by {@link outcomes}). */
  #outcomes: QmOutcome[] = [];

  /** Phase 2 drawing SPIs from `random`, over the engine's shared child `store` if given. */
  constructor(random: (n: number) => Uint8Array, store?: ChildStore) {
    this.qm = new QuickModeResponder(random, store);
    this.qmi = new QuickModeInitiator(this.qm.spis, this.qm.children, random);
  }

  /** One decrypted Quick Mode message (exchange type 32): ours (message 2) or the peer's. */
  handleQuickMode(host: QmHost, sa: QmIkeSa, msg: QmMessage, now: number): void {
    if (this.qmi.owns(sa.key, msg.messageId)) {
      const o = this.qmi.handle(host, sa, msg, now);
      if (o !== undefined) this.#outcomes.push(o);
      return;
    }
    this.qm.handle(host, sa, msg, now);
  }

  /** Starts our Quick Mode on `sa`; a failure to start is reported like a failed exchange. */
  initiate(
    host: QmHost,
    sa: QmIkeSa,
    now: number,
    ts?: Parameters<QuickModeInitiator["start"]>[3],
  ): void {
    const why = this.qmi.start(host, sa, now, ts);
    if (why !== undefined) {
      host.event("warn", sa.peer.name, `Quick Mode as initiator not started: ${why}`);
      this.#outcomes.push({ kind: "failed", saKey: sa.key, peer: sa.peer.name, why });
    }
  }

  /** A Notify on `sa` refusing our Quick Mode (NO_PROPOSAL_CHOSEN, INVALID_ID_INFORMATION...). */
  refused(host: QmHost, saKey: string, notifyType: number): void {
    const o = this.qmi.refused(host, saKey, notifyType);
    if (o !== undefined) this.#outcomes.push(o);
  }

  /** Outcomes of our Quick Modes since the last call. */
  outcomes(): QmOutcome[] {
    const o = this.#outcomes;
    this.#outcomes = [];
    return o;
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
  ikeSaDeleted(host: QmHost, saKey: string): void {
    this.qm.ikeSaDeleted(host, saKey);
    this.qmi.ikeSaDeleted(saKey);
  }

  /**
   * A lifetime event from the data path. Soft: a child of a peer we dial (start_action start
   * or trap), one we negotiated as the initiator, or one whose lifetime we shortened (our
   * RESPONDER-LIFETIME: the peer may rekey too late) gets a new Quick Mode with the child's
   * selectors (make-before-break, RFC 2409 §5.5 leaves rekeying to either side); otherwise we
   * only log and let the peer rekey. Hard: the data path
   * removed that SA; the other direction goes too and the peer gets an ESP Delete naming our
   * inbound SPI while an IKE SA with it lives.
   */
  espLifetime(host: QmHost, event: EspLifetimeEvent, now = 0): void {
    const child = this.qm.children.get(event.childId);
    if (child === undefined) return;
    if (event.kind === "soft") {
      const sa = host.liveIkeSa(child.peer);
      const dial = sa !== undefined &&
        (sa.peer.start_action !== "none" || child.rekeyByUs === true);
      host.event("info", child.peer, "child SA soft lifetime reached", {
        childId: child.childId,
        spi: spiHex(event.spi),
        direction: event.direction,
        rekey: dial ? "by us" : "by the peer",
      });
      if (dial && child.state === "installed" && !this.qmi.busy(child.peer)) {
        this.initiate(host, sa, now, {
          local: child.inbound.localSelectors[0]!,
          remote: child.inbound.remoteSelectors[0]!,
        });
      }
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

  /** Timers: half-open Quick Modes expire; ours are retransmitted or fail. */
  tick(host: QmHost, now: number): void {
    this.qm.tick(host, now);
    this.#outcomes.push(...this.qmi.tick(host, now));
  }

  /** The earliest Phase 2 deadline. */
  nextDeadline(): number | undefined {
    const a = this.qm.nextDeadline();
    const b = this.qmi.nextDeadline();
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
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
