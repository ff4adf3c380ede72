/**
 * The child SA table: each Quick Mode result is a pair of ESP SAs (inbound with our SPI,
 * outbound with the peer's). Rekeying is make-before-break: the new pair is installed inbound
 * first, then outbound; the data path sends on the newest outbound SA for the selectors, and the
 * old pair stays installed until its lifetime ends or the peer's Delete names it (RFC 2409 §5.5
 * leaves rekeying to the initiator; the overlap keeps packets in flight decryptable). IKEv1 has
 * no way to tell a rekey from a second child with the same selectors (strongSwan keeps such
 * parallel CHILD_SAs), so the older pair is never torn down early: when the peer deletes the
 * newer one, the older one carries the traffic again.
 * @module
 */

import type { EspSaSpec, TrafficSelector } from "../../esp/sa_spec.ts";
import type { ChildSaView, DeleteSaAction, InstallSaAction } from "../actions.ts";
import { formatSelector, sameSelector } from "./ts.ts";

/** One child SA pair. */
export interface ChildSa {
  /** Identifier carried in both specs (`peer#n`). */
  readonly childId: string;
  /** Peer name. */
  readonly peer: string;
  /** The IKE SA it belongs to (opaque key, e.g. the cookie pair in hex); an IKEv2 IKE SA
   * rekey moves it to the new SA (RFC 7296 §2.18). */
  ikeSa: string;
  /** The inbound SA (our SPI). */
  readonly inbound: EspSaSpec;
  /** The outbound SA (the peer's SPI). */
  readonly outbound: EspSaSpec;
  /** Transform in proposal syntax. */
  readonly transformName: string;
  /** PFS group, 0 without. */
  readonly pfsGroup: number;
  /** When installed (caller's milliseconds). */
  readonly installedAt: number;
  /** "rekeyed" once a successor with the same selectors is installed. */
  state: "installed" | "rekeyed";
  /**
   * We rekey it at its soft lifetime even as a responder: we negotiated it as the initiator,
   * or its lifetime is ours, shorter than the one the peer offered (IKEv1 RESPONDER-LIFETIME).
   */
  readonly rekeyByUs?: boolean;
  /** The inbound SA is still in the data path. */
  hasInbound: boolean;
  /** The outbound SA is still in the data path. */
  hasOutbound: boolean;
}

/** An inbound SA already installed under a {@link ChildSaTable.reserveId} id. */
export interface EarlyInbound {
  /** The id its spec carries. */
  readonly childId: string;
  /** The outbound SA is installed already too. */
  readonly outbound?: boolean;
}

/** What a new child needs besides the id the table assigns. */
export type NewChild =
  & Omit<
    ChildSa,
    "childId" | "state" | "hasInbound" | "hasOutbound" | "inbound" | "outbound"
  >
  & {
    /** Inbound spec without its childId. */
    readonly inbound: Omit<EspSaSpec, "childId">;
    /** Outbound spec without its childId. */
    readonly outbound: Omit<EspSaSpec, "childId">;
  };

const sameList = (a: readonly TrafficSelector[], b: readonly TrafficSelector[]) =>
  a.length === b.length && a.every((x, i) => sameSelector(x, b[i]!));

function deleteAction(c: ChildSa, direction: "in" | "out"): DeleteSaAction {
  const spi = direction === "in" ? c.inbound.spi : c.outbound.spi;
  return { kind: "deleteSa", spi, direction, peer: c.peer };
}

/** All child SAs of the responder, by id and by SPI. */
export class ChildSaTable {
  readonly #children = new Map<string, ChildSa>();
  #seq = 0;

  /**
   * A table; `release` is called with our inbound SPI when a child leaves the table, so the
   * SPI allocator may hand it out again.
   */
  constructor(private readonly release: (inboundSpi: number) => void = () => {}) {}

  /**
   * Adds a child and returns the actions installing it: inbound first, then outbound (so no
   * packet is sent before its answer can be received); with `early`, the inbound SA is in the
   * data path already (under `early.childId`) and only the outbound one is installed. Older children of the same peer with
   * the same selectors are marked "rekeyed" and stay installed (make-before-break).
   */
  install(
    n: NewChild,
    early?: EarlyInbound,
  ): { child: ChildSa; actions: (InstallSaAction | DeleteSaAction)[] } {
    const childId = early?.childId ?? this.reserveId(n.peer);
    const child: ChildSa = {
      ...n,
      childId,
      inbound: { ...n.inbound, childId },
      outbound: { ...n.outbound, childId },
      state: "installed",
      hasInbound: true,
      hasOutbound: true,
    };
    const actions: (InstallSaAction | DeleteSaAction)[] = [
      ...(early === undefined ? [{ kind: "installSa" as const, spec: child.inbound }] : []),
      ...(early?.outbound === true ? [] : [{ kind: "installSa" as const, spec: child.outbound }]),
    ];
    for (const old of this.#children.values()) {
      if (old.peer !== n.peer || old.state !== "installed") continue;
      if (!sameList(old.inbound.localSelectors, n.inbound.localSelectors)) continue;
      if (!sameList(old.inbound.remoteSelectors, n.inbound.remoteSelectors)) continue;
      old.state = "rekeyed";
    }
    this.#children.set(childId, child);
    return { child, actions };
  }

  /** True when `peer` has a child carrying traffic between exactly these selectors. */
  carries(
    peer: string,
    local: readonly TrafficSelector[],
    remote: readonly TrafficSelector[],
  ): boolean {
    for (const c of this.#children.values()) {
      if (c.peer !== peer || !c.hasOutbound) continue;
      if (
        sameList(c.inbound.localSelectors, local) && sameList(c.inbound.remoteSelectors, remote)
      ) {
        return true;
      }
    }
    return false;
  }

  /**
   * How a new child's outbound SA enters the data path: on standby (`activateOn` its inbound
   * partner's SPI, see EspSaSpec) when `peer` already has a child carrying these selectors (a
   * rekey: the old pair carries the traffic until the peer sends on the new one, which proves
   * it has the pair), else at once (nothing else could carry the traffic). Ask before
   * {@link install}ing the new child.
   */
  outboundActivation(
    peer: string,
    inbound: Pick<EspSaSpec, "spi" | "localSelectors" | "remoteSelectors">,
  ): { readonly activateOn?: number } {
    return this.carries(peer, inbound.localSelectors, inbound.remoteSelectors)
      ? { activateOn: inbound.spi }
      : {};
  }

  /** A fresh child id for `peer` (`peer#n`), for an inbound SA installed before its child. */
  reserveId(peer: string): string {
    return `${peer}#${++this.#seq}`;
  }

  /** The newest remaining child with `gone`'s selectors is the current one again. */
  #promoteSuccessor(gone: ChildSa): void {
    let newest: ChildSa | undefined;
    for (const c of this.#children.values()) {
      if (c.peer !== gone.peer || !c.hasOutbound) continue;
      if (!sameList(c.inbound.localSelectors, gone.inbound.localSelectors)) continue;
      if (!sameList(c.inbound.remoteSelectors, gone.inbound.remoteSelectors)) continue;
      if (newest === undefined || c.installedAt >= newest.installedAt) newest = c;
    }
    if (newest !== undefined) newest.state = "installed";
  }

  /** The child with this id. */
  get(childId: string): ChildSa | undefined {
    return this.#children.get(childId);
  }

  /**
   * The child a peer's ESP Delete names (RFC 2408 §3.15): normally the peer's own inbound SPI
   * (our outbound), but some peers name ours; both are looked up.
   */
  findBySpi(peer: string, spi: number): ChildSa | undefined {
    let found: ChildSa | undefined;
    for (const c of this.#children.values()) {
      if (c.peer !== peer) continue;
      if (c.outbound.spi === spi) return c;
      if (c.inbound.spi === spi) found ??= c;
    }
    return found;
  }

  /** Removes a child; returns deleteSa actions for the directions still installed. */
  remove(childId: string): DeleteSaAction[] {
    const c = this.#children.get(childId);
    if (c === undefined) return [];
    const out: DeleteSaAction[] = [];
    if (c.hasInbound) out.push(deleteAction(c, "in"));
    if (c.hasOutbound) out.push(deleteAction(c, "out"));
    c.hasInbound = false;
    c.hasOutbound = false;
    this.#children.delete(childId);
    this.release(c.inbound.spi);
    if (c.state === "installed") this.#promoteSuccessor(c);
    return out;
  }

  /**
   * The data path removed one SA itself (hard lifetime): the child loses that direction and
   * is removed with its other direction. Returns the child (undefined if unknown) and the
   * deleteSa actions for what is left.
   */
  expired(
    childId: string,
    spi: number,
    direction: "in" | "out",
  ): { child?: ChildSa; actions: DeleteSaAction[] } {
    const c = this.#children.get(childId);
    if (c === undefined) return { actions: [] };
    const spec = direction === "in" ? c.inbound : c.outbound;
    if (spec.spi !== spi) return { actions: [] };
    if (direction === "in") c.hasInbound = false;
    else c.hasOutbound = false;
    return { child: c, actions: this.remove(childId) };
  }

  /** Children of one IKE SA. */
  forIkeSa(ikeSa: string): ChildSa[] {
    return [...this.#children.values()].filter((c) => c.ikeSa === ikeSa);
  }

  /** Moves every child of IKE SA `from` to `to` (IKEv2 IKE SA rekey, RFC 7296 §2.18). */
  moveIkeSa(from: string, to: string): number {
    let n = 0;
    for (const c of this.#children.values()) {
      if (c.ikeSa === from) {
        c.ikeSa = to;
        n++;
      }
    }
    return n;
  }

  /** Children of one peer. */
  forPeer(peer: string): ChildSa[] {
    return [...this.#children.values()].filter((c) => c.peer === peer);
  }

  /** Every child. */
  all(): ChildSa[] {
    return [...this.#children.values()];
  }

  /** Number of children. */
  get size(): number {
    return this.#children.size;
  }

  /** Rows for `show esp sa`. */
  views(now: number): ChildSaView[] {
    return this.all().map((c) => ({
      peer: c.peer,
      childId: c.childId,
      inboundSpi: c.inbound.spi,
      outboundSpi: c.outbound.spi,
      transform: c.transformName,
      localTs: c.inbound.localSelectors.map(formatSelector).join(","),
      remoteTs: c.inbound.remoteSelectors.map(formatSelector).join(","),
      encap: c.inbound.endpoints.encap !== undefined,
      pfsGroup: c.pfsGroup,
      state: c.state,
      ageSeconds: Math.max(0, Math.floor((now - c.installedAt) / 1000)),
    }));
  }
}
