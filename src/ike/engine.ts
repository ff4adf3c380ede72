/**
 * The IKE engine of the gateway: one object behind the {@link IkeEngine} contract that routes
 * each datagram by the IKE major version in its header (RFC 7296 §3.1: version 2; RFC 2408
 * §3.1: version 1) to the IKEv1 responder (src/ike/responder.ts) or the IKEv2 engine
 * (src/ike/v2/engine.ts). Each version sees only the peers configured for it (`ike_version`);
 * both share one IKE SA table (src/ike/ike_sa_table.ts), one child SA table and SPI allocator
 * (src/ike/child/store.ts), the views, the credential store and the action contract; the
 * caller keeps one timer for both.
 * @module
 */

import { getCrypto } from "../crypto/registry.ts";
import type { EspLifetimeEvent } from "../esp/sa_spec.ts";
import type { Endpoint, IkeAction, IkeEngine, IkePolicy } from "./actions.ts";
import { type ChildStore, newChildStore } from "./child/store.ts";
import { IkeSaTable } from "./ike_sa_table.ts";
import { IkeV1Responder, type ResponderDeps } from "./responder.ts";
import { IkeV2Engine, type V2Deps } from "./v2/engine.ts";
import type { ChildSaView, IkeSaView, PeerStateView } from "./views.ts";

/** Optional collaborators of both engines. */
export interface EngineDeps {
  /** IKEv1 collaborators (crypto, randomness). */
  readonly v1?: Omit<ResponderDeps, "children" | "sas">;
  /** IKEv2 collaborators. */
  readonly v2?: Omit<V2Deps, "children" | "sas">;
  /** Random bytes for SPIs; the crypto registry's by default. */
  readonly random?: (n: number) => Uint8Array;
}

/** The policy restricted to the peers of one IKE version. */
function only(policy: IkePolicy, version: 1 | 2): IkePolicy {
  return {
    config: { ...policy.config, peer: policy.config.peer.filter((p) => p.ike_version === version) },
    credentials: policy.credentials,
  };
}

/** A new engine for `policy` (both versions). */
export function createIkeEngine(policy: IkePolicy, deps: EngineDeps = {}): IkeEngine {
  return new DualEngine(policy, deps);
}

/** Both versions behind one interface. */
export class DualEngine implements IkeEngine {
  #policy: IkePolicy;
  readonly #store: ChildStore;
  /** The IKE SAs of both versions, handed to both engines. */
  readonly #sas = new IkeSaTable();
  readonly #v1: IkeV1Responder;
  readonly #v2: IkeV2Engine;
  #timerAt: number | undefined;

  /** See {@link createIkeEngine}. */
  constructor(policy: IkePolicy, deps: EngineDeps = {}) {
    this.#policy = policy;
    const random = deps.random ?? ((n: number) => getCrypto().randomBytes(n));
    this.#store = newChildStore(random);
    this.#v1 = new IkeV1Responder(only(policy, 1), {
      ...deps.v1,
      children: this.#store,
      sas: this.#sas,
    });
    this.#v2 = new IkeV2Engine(only(policy, 2), {
      ...deps.v2,
      children: this.#store,
      sas: this.#sas,
    });
  }

  /** Drops the engines' own timer actions and emits one for the earliest deadline of both. */
  #merge(actions: IkeAction[]): IkeAction[] {
    const out: IkeAction[] = actions.filter((a) => a.kind !== "timer");
    const d1 = this.#v1.nextDeadline();
    const d2 = this.#v2.nextDeadline();
    const at = d1 === undefined ? d2 : d2 === undefined ? d1 : Math.min(d1, d2);
    if (at !== undefined && at !== this.#timerAt) out.push({ kind: "timer", at });
    this.#timerAt = at;
    return out;
  }

  #versionOf(peer: string): 1 | 2 | undefined {
    return this.#policy.config.peer.find((p) => p.name === peer)?.ike_version;
  }

  /** {@inheritDoc IkeEngine.handle} */
  handle(datagram: Uint8Array, local: Endpoint, remote: Endpoint, now: number): IkeAction[] {
    // RFC 7296 §3.1 / RFC 2408 §3.1: the major version is the high nibble of octet 17.
    const major = datagram.length > 17 ? datagram[17]! >> 4 : 1;
    // Versions above 2 go to the IKEv2 engine, which answers INVALID_MAJOR_VERSION (§2.5).
    const engine = major >= 2 ? this.#v2 : this.#v1;
    return this.#merge(engine.handle(datagram, local, remote, now));
  }

  /** {@inheritDoc IkeEngine.tick} */
  tick(now: number): IkeAction[] {
    // The caller's timer fired and is gone: always name the next deadline again.
    this.#timerAt = undefined;
    return this.#merge([...this.#v1.tick(now), ...this.#v2.tick(now)]);
  }

  /** {@inheritDoc IkeEngine.espLifetime} */
  espLifetime(event: EspLifetimeEvent, now: number): IkeAction[] {
    const child = this.#store.children.get(event.childId);
    const v = child === undefined ? undefined : this.#versionOf(child.peer);
    const engine = v === 2 ? this.#v2 : this.#v1;
    return this.#merge(engine.espLifetime(event, now));
  }

  /** {@inheritDoc IkeEngine.initiate} */
  initiate(peer: string, remote: string, now: number): IkeAction[] {
    const v = this.#versionOf(peer);
    const engine: IkeEngine = v === 2 ? this.#v2 : this.#v1;
    if (engine.initiate === undefined) {
      return [{
        kind: "connection",
        peer,
        event: "failed",
        reason: `this gateway cannot initiate IKEv${v} yet`,
      }];
    }
    return this.#merge(engine.initiate(peer, remote, now));
  }

  /** {@inheritDoc IkeEngine.setPolicy} */
  setPolicy(policy: IkePolicy, now: number): IkeAction[] {
    this.#policy = policy;
    return this.#merge([
      ...this.#v1.setPolicy(only(policy, 1), now),
      ...this.#v2.setPolicy(only(policy, 2), now),
    ]);
  }

  /** {@inheritDoc IkeEngine.deletePeer} */
  deletePeer(peer: string, now: number): IkeAction[] {
    const v = this.#versionOf(peer);
    if (v === 1) return this.#merge(this.#v1.deletePeer(peer, now));
    if (v === 2) return this.#merge(this.#v2.deletePeer(peer, now));
    return this.#merge([...this.#v1.deletePeer(peer, now), ...this.#v2.deletePeer(peer, now)]);
  }

  /** {@inheritDoc IkeEngine.shutdown} */
  shutdown(now: number): IkeAction[] {
    return this.#merge([...this.#v1.shutdown(now), ...this.#v2.shutdown(now)]);
  }

  /** {@inheritDoc IkeEngine.ikeSas} */
  ikeSas(now: number): IkeSaView[] {
    return [...this.#v1.ikeSas(now), ...this.#v2.ikeSas(now)];
  }

  /** {@inheritDoc IkeEngine.childSas} */
  childSas(now: number): ChildSaView[] {
    return this.#store.children.views(now);
  }

  /** {@inheritDoc IkeEngine.drops} */
  drops(): ReadonlyMap<string, number> {
    // IKEv1 reasons as they were; IKEv2's under "ikev2/" (`show drops` layer "ikev2").
    const all = new Map(this.#v1.drops());
    for (const [k, v] of this.#v2.drops()) all.set(`ikev2/${k}`, v);
    return all;
  }

  /** {@inheritDoc IkeEngine.peerStates} */
  peerStates(now: number): PeerStateView[] {
    const all = [...this.#v1.peerStates(now), ...this.#v2.peerStates(now)];
    return this.#policy.config.peer
      .map((p) => all.find((s) => s.name === p.name))
      .filter((s): s is PeerStateView => s !== undefined);
  }
}
