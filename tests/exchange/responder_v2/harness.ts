/**
 * This project's engine dialling the scripted IKEv2 responder (responder.ts) on a fake clock:
 * the engine's sends reach the responder, whose answers go back to the engine; either
 * direction can be dropped; the engine's timers fire when the clock advances. Only the
 * engine's public contract is used.
 * @module
 */

import type { IkeAction, IkeEngine, IkePolicy } from "../../../src/ike/actions.ts";
import { createIkeEngine } from "../../../src/ike/engine.ts";
import type { EspSaSpec } from "../../../src/esp/sa_spec.ts";
import type { Ep } from "../initiator_v2/initiator.ts";
import { branchPolicy, HUB_IP, PSK } from "../pair/wire.ts";
import { type ResponderOptions, V2Responder } from "./responder.ts";

/** The responder's address. */
export const HUB: Ep = { address: HUB_IP, port: 500 };

/** The branch's IKEv2 policy: it dials "hq" at {@link HUB}. */
export function v2Branch(over: Record<string, unknown> = {}): IkePolicy {
  return branchPolicy({ ike_version: 2, ...over });
}

/** The engine, the scripted responder and the clock. */
export class Link {
  /** The engine under test (the branch). */
  readonly engine: IkeEngine;
  /** The scripted responder (the hub). */
  readonly peer: V2Responder;
  /** Milliseconds on the fake clock. */
  now = 1_000_000;
  /** Every action of the engine. */
  readonly log: IkeAction[] = [];
  /** The engine's SAs installed and not deleted, by `${direction}:${spi}`. */
  readonly sas = new Map<string, EspSaSpec>();
  /** The engine's pending timer. */
  timer: number | undefined;
  /** Drops a datagram (sent by `from`) when it returns true. */
  drop: (d: Uint8Array, from: "branch" | "hub") => boolean = () => false;

  /** An engine over `policy` and a responder with `o` (PSK and address filled in). */
  constructor(policy: IkePolicy = v2Branch(), o: Partial<ResponderOptions> = {}) {
    this.engine = createIkeEngine(policy);
    this.peer = new V2Responder({ psk: PSK, self: HUB, ...o });
  }

  /** Carries out the engine's `actions`, delivering sends to the responder and back. */
  run(actions: readonly IkeAction[], depth = 0): void {
    for (const a of actions) {
      this.log.push(a);
      if (a.kind === "installSa") this.sas.set(`${a.spec.direction}:${a.spec.spi}`, a.spec);
      else if (a.kind === "deleteSa") this.sas.delete(`${a.direction}:${a.spi}`);
      else if (a.kind === "timer") this.timer = a.at;
    }
    if (depth > 50) return;
    for (const a of actions) {
      if (a.kind !== "send" || this.drop(a.datagram, "branch")) continue;
      const back = this.peer.handle(a.datagram, a.local);
      this.toEngine(back, a.local, depth + 1);
    }
  }

  /** Delivers datagrams of the responder to the engine at `to` (the engine's endpoint). */
  toEngine(ds: readonly Uint8Array[], to: Ep = { address: "192.0.2.2", port: 500 }, depth = 0) {
    for (const d of ds) {
      if (this.drop(d, "hub")) continue;
      this.run(this.engine.handle(d, to, HUB, this.now), depth);
    }
  }

  /** The engine dials "hq". */
  dial(): void {
    this.run(this.engine.initiate!("hq", HUB_IP, this.now));
  }

  /** Advances the clock to `t`, firing the engine's timers due on the way. */
  advance(t: number, limit = 10_000): void {
    for (let i = 0; i < limit && this.timer !== undefined && this.timer <= t; i++) {
      this.now = Math.max(this.now, this.timer);
      this.timer = undefined;
      this.run(this.engine.tick(this.now));
    }
    this.now = Math.max(this.now, t);
  }
}
