/**
 * Test harness for Phase 1 exchange tests: a config with one or more peers, a responder over
 * it, helpers to pick actions, and a full Main Mode run with the scripted initiator.
 */

import { MemoryCredentials } from "../../../src/ike/auth/credentials.ts";
import assert from "node:assert/strict";
import * as v from "valibot";
import { ConfigSchema } from "../../../src/config/schema.ts";
import type {
  EventAction,
  IkeAction,
  IkePolicy,
  IkeResponder,
  SendAction,
} from "../../../src/ike/actions.ts";
import { createIkeV1Responder } from "../../../src/ike/responder.ts";
import { type Ep, type InitiatorOptions, Phase1Initiator } from "./phase1.ts";
import { QuickModeInitiator } from "./quick_mode.ts";

/** The PSK of "branch1" in these tests. */
export const PSK = "correct horse battery staple";
/** Our address. */
export const GW: Ep = { address: "192.0.2.1", port: 500 };
/** The initiator's address. */
export const BRANCH: Ep = { address: "192.0.2.2", port: 500 };

/** A policy with peer branch1 (overridable) and optional extra peers. */
export function policy(
  over: Record<string, unknown> = {},
  extra: Record<string, unknown>[] = [],
): IkePolicy {
  const peers = [
    {
      name: "branch1",
      remote: "192.0.2.2",
      psk: PSK,
      ike_proposals: ["aes128-sha256-modp2048"],
      esp_proposals: ["aes128gcm16"],
      local_ts: ["10.1.0.0/16"],
      remote_ts: ["10.2.0.0/16"],
      ...over,
    },
    ...extra,
  ];
  const config = v.parse(ConfigSchema, { peer: peers });
  const secrets = new Map<string, Uint8Array>();
  for (const p of config.peer) {
    if (p.psk !== undefined) secrets.set(p.name, new TextEncoder().encode(p.psk));
  }
  return { config, credentials: new MemoryCredentials(secrets) };
}

/** The sends among actions. */
export function sends(actions: readonly IkeAction[]): SendAction[] {
  return actions.filter((a): a is SendAction => a.kind === "send");
}

/** The single send among actions. */
export function oneSend(actions: readonly IkeAction[]): Uint8Array {
  const s = sends(actions);
  assert.equal(
    s.length,
    1,
    `one datagram expected, got ${s.length}: ${
      JSON.stringify(events(actions).map((e) => e.message))
    }`,
  );
  return s[0]!.datagram;
}

/** The events among actions. */
export function events(actions: readonly IkeAction[]): EventAction[] {
  return actions.filter((a): a is EventAction => a.kind === "event");
}

/** Whether some event message matches. */
export function hasEvent(actions: readonly IkeAction[], re: RegExp): boolean {
  return events(actions).some((e) => re.test(e.message));
}

/** A responder, an initiator and a clock. */
export interface Setup {
  /** The responder. */
  readonly r: IkeResponder;
  /** The initiator. */
  readonly i: Phase1Initiator;
  /** Milliseconds. */
  now: number;
}

/** A fresh responder and initiator. */
export function setup(p: IkePolicy = policy(), o: Partial<InitiatorOptions> = {}): Setup {
  return {
    r: createIkeV1Responder(p),
    i: new Phase1Initiator({ psk: PSK, self: BRANCH, responder: GW, ...o }),
    now: 1_000_000,
  };
}

/** Runs a whole Main Mode; returns the actions of message 5. */
export function mainMode(
  s: Setup,
  opts: { initialContact?: boolean; from?: Ep; to?: Ep; floatFrom?: Ep; floatTo?: Ep } = {},
): IkeAction[] {
  const from = opts.from ?? BRANCH;
  const to = opts.to ?? GW;
  s.i.readPlain(oneSend(s.r.handle(s.i.mm1(), to, from, s.now)));
  s.i.readMm4(oneSend(s.r.handle(s.i.mm3(), to, from, s.now)));
  const act = s.r.handle(
    s.i.mm5({ initialContact: opts.initialContact ?? false }),
    opts.floatTo ?? to,
    opts.floatFrom ?? from,
    s.now,
  );
  const first = sends(act)[0];
  assert.ok(first !== undefined, "message 6 sent");
  s.i.readMm6(first.datagram);
  return act;
}

/** An IPv4 subnet ID payload (RFC 2407 §4.6.2.1: ID_IPV4_ADDR_SUBNET) for `a.b.0.0/16`. */
function subnet16(a: number, b: number) {
  return {
    kind: "id" as const,
    idType: 4,
    protocol: 0,
    port: 0,
    data: Uint8Array.of(a, b, 0, 0, 255, 255, 0, 0),
  };
}

/**
 * A Quick Mode initiator on the established `s` offering AES-GCM-16-128 (ESP transform 20) for
 * 10.2.0.0/16 ↔ 10.1.0.0/16 in encapsulation mode `mode` (1 = tunnel, 3 = UDP tunnel).
 */
export function gcmQuickMode(s: Setup, messageId: number, spi: number, mode = 1) {
  return new QuickModeInitiator({
    hash: "sha256",
    skeyidD: s.i.skeyidD,
    skeyidA: s.i.skeyidA,
    messageId,
    spi,
    transforms: [{
      id: 20,
      attributes: [{ type: 1, value: 1 }, { type: 2, value: 3600 }, { type: 4, value: mode }, {
        type: 6,
        value: 128,
      }],
    }],
    ids: [subnet16(10, 2), subnet16(10, 1)],
  });
}
