/**
 * Harness of the IKEv2 exchange tests: an IKEv2 peer config (branch1, ike_version = 2), the
 * engine over it with a fake clock, the scripted initiator wired to it, and helpers that run
 * IKE_SA_INIT, IKE_AUTH and CREATE_CHILD_SA through `handle` and return the engine's actions.
 * The initiator shares no code with src/ike/; only the engine's public contract is used here.
 * @module
 */

import assert from "node:assert/strict";
import type { IkeAction, IkeEngine, IkePolicy, InstallSaAction } from "../../../src/ike/actions.ts";
import { createIkeEngine } from "../../../src/ike/engine.ts";
import { events, hasEvent, oneSend, policy, PSK, sends } from "../initiator/p1_harness.ts";
import { type Child, type Ep, type Received, V2Initiator, type V2Options } from "./initiator.ts";
import { cat, hex } from "./wire.ts";
import { xorshift32 } from "../mutate.ts";

export { events, hasEvent, oneSend, PSK, sends };

/** The gateway (engine) side. */
export const GW: Ep = { address: "192.0.2.1", port: 500 };
/** The branch (initiator) side. */
export const BRANCH: Ep = { address: "192.0.2.2", port: 500 };

/** An IKEv2 policy: peer branch1 at 192.0.2.2 with `over`, plus `extra` peers. */
export function v2Policy(
  over: Record<string, unknown> = {},
  extra: Record<string, unknown>[] = [],
): IkePolicy {
  return policy({
    ike_version: 2,
    ike_proposals: ["aes128gcm16-prfsha256-ecp256"],
    esp_proposals: ["aes128gcm16"],
    ...over,
  }, extra);
}

/** An engine, an initiator and a clock; `from`/`to` are the addresses datagrams carry. */
export class V2Setup {
  /** The engine under test. */
  readonly r: IkeEngine;
  /** The scripted initiator. */
  readonly i: V2Initiator;
  /** Milliseconds on the fake clock. */
  now = 1_000_000;
  /** Where the initiator's datagrams appear to come from. */
  from: Ep = BRANCH;
  /** Where they are sent to. */
  to: Ep = GW;
  /** Every action the engine returned, in order. */
  readonly log: IkeAction[] = [];

  /** A fresh engine over `p` (or `engine`, shared) and an initiator with options `o`. */
  constructor(p: IkePolicy = v2Policy(), o: Partial<V2Options> = {}, engine?: IkeEngine) {
    this.r = engine ?? createIkeEngine(p);
    this.i = new V2Initiator({ psk: PSK, self: BRANCH, responder: GW, ...o });
  }

  /** Hands datagrams to the engine; returns all actions. */
  feed(ds: readonly Uint8Array[]): IkeAction[] {
    const out: IkeAction[] = [];
    for (const d of ds) out.push(...this.r.handle(d, this.to, this.from, this.now));
    this.log.push(...out);
    return out;
  }

  /** Hands datagrams to the engine; returns the datagrams it sent back. */
  exchange(ds: readonly Uint8Array[]): Uint8Array[] {
    return sends(this.feed(ds)).map((s) => s.datagram);
  }

  /** IKE_SA_INIT including COOKIE and INVALID_KE retries; asserts it completed. */
  init(): void {
    const r = this.i.initLoop((d) => oneSend(this.feed([d])));
    assert.equal(r.kind, "done", JSON.stringify(r));
  }

  /** Feeds `ds` and reads the answer with `read` (all fragments); returns it. */
  answer(ds: readonly Uint8Array[], read: (d: Uint8Array) => Received | undefined): Received {
    const back = this.exchange(ds);
    let r: Received | undefined;
    for (const d of back) r = read(d) ?? r;
    assert.ok(r !== undefined, `no complete answer among ${back.length} datagrams`);
    return r;
  }

  /** IKE_SA_INIT and IKE_AUTH; returns the IKE_AUTH answer. */
  establish(auth: Parameters<V2Initiator["auth"]>[0] = {}): Received {
    this.init();
    return this.answer(this.i.auth(auth), (d) => this.i.readAuth(d));
  }

  /** Installs among the logged actions. */
  installs(from = 0): InstallSaAction[] {
    return this.log.slice(from).filter((a): a is InstallSaAction => a.kind === "installSa");
  }
}

/**
 * Asserts that the engine installed `c` (as the scripted peer holds it) among the log from
 * `from`: our outbound SPI is the engine's inbound and the other way round, and each
 * direction's KEYMAT is the one the peer derived (RFC 7296 §2.17).
 */
export function assertInstalled(s: V2Setup, c: Child, from: number): void {
  const inst = s.installs(from);
  const inb = inst.find((a) => a.spec.direction === "in" && a.spec.spi === spiNum(c.outSpi));
  const out = inst.find((a) => a.spec.direction === "out" && a.spec.spi === spiNum(c.inSpi));
  assert.ok(inb !== undefined && out !== undefined, "both directions installed");
  assert.equal(hex(inb.spec.keyMaterial), hex(cat(c.keys.ei, c.keys.ai)), "KEYMAT peer→engine");
  assert.equal(hex(out.spec.keyMaterial), hex(cat(c.keys.er, c.keys.ar)), "KEYMAT engine→peer");
}

/** Hex of an SPI number. */
export function spiHex(n: number): string {
  return n.toString(16).padStart(8, "0");
}

/** SPI bytes → number. */
export function spiNum(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
}

/** xorshift32 seeded from BRANCHGATE_TEST_SEED, else at random; the seed is printed. */
export function seededRng(name: string): { seed: number; next: () => number } {
  const env = Deno.env.get("BRANCHGATE_TEST_SEED");
  const seed = env === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(env) >>> 0;
  console.log(`${name}: seed ${seed} (BRANCHGATE_TEST_SEED=${seed} to repeat)`);
  return { seed, next: xorshift32(seed) };
}

/** Random bytes from a seeded generator (for the initiator's `random`). */
export function seededBytes(next: () => number): (n: number) => Uint8Array {
  return (n) => Uint8Array.from({ length: n }, () => next() & 0xff);
}
