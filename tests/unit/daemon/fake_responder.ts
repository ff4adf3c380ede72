/**
 * A scripted IKE responder for driver and services tests: it records every call, answers each
 * datagram with what `onHandle` returns, and reports the SAs it was told to report.
 */

import type {
  ChildSaView,
  Endpoint,
  IkeAction,
  IkePolicy,
  IkeResponder,
  PeerStateView,
} from "../../../src/ike/actions.ts";
import type { EspLifetimeEvent } from "../../../src/esp/sa_spec.ts";
import type { IkeSaView } from "../../../src/shell/host.ts";

/** One recorded call. */
export type Call =
  | { op: "handle"; data: Uint8Array; local: Endpoint; remote: Endpoint }
  | { op: "tick" | "shutdown" }
  | { op: "lifetime"; event: EspLifetimeEvent }
  | { op: "setPolicy"; policy: IkePolicy }
  | { op: "deletePeer"; peer: string }
  | { op: "initiate"; peer: string; remote: string };

/** The fake. */
export class FakeResponder implements IkeResponder {
  readonly calls: Call[] = [];
  policy: IkePolicy;
  onHandle: (data: Uint8Array, local: Endpoint, remote: Endpoint, now: number) => IkeAction[] =
    () => [];
  onTick: (now: number) => IkeAction[] = () => [];
  onShutdown: () => IkeAction[] = () => [];
  onDeletePeer: (peer: string) => IkeAction[] = () => [];
  onInitiate: (peer: string, remote: string) => IkeAction[] = () => [];
  children: ChildSaView[] = [];
  ike: IkeSaView[] = [];
  /** What `drops()` reports (the dual engine's keys: IKEv2 ones under "ikev2/"). */
  dropCounts = new Map<string, number>();

  constructor(policy: IkePolicy) {
    this.policy = policy;
  }

  handle(data: Uint8Array, local: Endpoint, remote: Endpoint, now: number): IkeAction[] {
    this.calls.push({ op: "handle", data, local, remote });
    return this.onHandle(data, local, remote, now);
  }
  tick(now: number): IkeAction[] {
    this.calls.push({ op: "tick" });
    return this.onTick(now);
  }
  espLifetime(event: EspLifetimeEvent): IkeAction[] {
    this.calls.push({ op: "lifetime", event });
    return [];
  }
  setPolicy(policy: IkePolicy): IkeAction[] {
    this.calls.push({ op: "setPolicy", policy });
    this.policy = policy;
    return [];
  }
  initiate(peer: string, remote: string): IkeAction[] {
    this.calls.push({ op: "initiate", peer, remote });
    return this.onInitiate(peer, remote);
  }
  deletePeer(peer: string): IkeAction[] {
    this.calls.push({ op: "deletePeer", peer });
    return this.onDeletePeer(peer);
  }
  shutdown(): IkeAction[] {
    this.calls.push({ op: "shutdown" });
    return this.onShutdown();
  }
  ikeSas(): IkeSaView[] {
    return this.ike;
  }
  drops(): ReadonlyMap<string, number> {
    return this.dropCounts;
  }
  childSas(): ChildSaView[] {
    return this.children;
  }
  peerStates(): PeerStateView[] {
    return this.policy.config.peer.map((p) => ({
      name: p.name,
      state: this.children.some((c) => c.peer === p.name) ? "up" : "down",
      ikeSas: this.ike.filter((s) => s.peer === p.name).length,
      childSas: this.children.filter((c) => c.peer === p.name).length,
      detail: "",
    }));
  }
}
