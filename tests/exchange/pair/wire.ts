/**
 * Two sans-I/O IKE engines of this project wired back to back on a fake clock: a branch that
 * dials (initiator) and a hub that answers, each with its own config. Sends are delivered to
 * the other engine (optionally dropped or rewritten by a NAT), SA installs are collected per
 * side, and timers fire when the clock is advanced.
 */

import * as v from "valibot";
import { ConfigSchema } from "../../../src/config/schema.ts";
import type {
  ConnectionAction,
  EventAction,
  IkeAction,
  IkePolicy,
  IkeResponder,
  InstallSaAction,
  SendAction,
} from "../../../src/ike/actions.ts";
import { createIkeV1Responder } from "../../../src/ike/responder.ts";
import { MemoryCredentials } from "../../../src/ike/auth/credentials.ts";
import type { EspSaSpec } from "../../../src/esp/sa_spec.ts";

/** The branch's public address. */
export const BRANCH_IP = "192.0.2.2";
/** The hub's address. */
export const HUB_IP = "198.51.100.1";
/** Their PSK. */
export const PSK = "correct horse battery staple";

/** A policy of one peer over `gateway` settings. */
export function policyOf(
  peer: Record<string, unknown>,
  gateway: Record<string, unknown> = {},
): IkePolicy {
  const config = v.parse(ConfigSchema, { gateway, peer: [{ psk: PSK, ...peer }] });
  const secrets = new Map<string, Uint8Array>();
  for (const p of config.peer) secrets.set(p.name, new TextEncoder().encode(p.psk!));
  return { config, credentials: new MemoryCredentials(secrets) };
}

/** The branch's view: it dials "hq". */
export function branchPolicy(over: Record<string, unknown> = {}): IkePolicy {
  return policyOf({
    name: "hq",
    remote: HUB_IP,
    start_action: "start",
    ike_proposals: ["aes256-sha256-modp3072", "aes128-sha256-modp2048"],
    esp_proposals: ["aes256gcm16-modp2048", "aes128gcm16-modp2048"],
    local_ts: ["10.2.0.0/16"],
    remote_ts: ["10.1.0.0/16"],
    ...over,
  }, { listen: [BRANCH_IP] });
}

/** The hub's view: branch1 may call in. */
export function hubPolicy(over: Record<string, unknown> = {}): IkePolicy {
  return policyOf({
    name: "branch1",
    remote: BRANCH_IP,
    ike_proposals: ["aes128-sha256-modp2048"],
    esp_proposals: ["aes128gcm16-modp2048"],
    local_ts: ["10.1.0.0/16"],
    remote_ts: ["10.2.0.0/16"],
    ...over,
  }, { listen: [HUB_IP] });
}

/** One side. */
export interface Side {
  /** Its engine. */
  engine: IkeResponder;
  /** SAs installed and not deleted, by `${direction}:${spi}`. */
  readonly sas: Map<string, EspSaSpec>;
  /** Every action it produced. */
  readonly log: IkeAction[];
  /** Its pending timer. */
  timer: number | undefined;
}

/** A NAT in front of the branch: its source address/port as the hub sees it. */
export interface Nat {
  /** Public address. */
  readonly address: string;
  /** Port for the branch's port 500. */
  readonly port500: number;
  /** Port for the branch's port 4500. */
  readonly port4500: number;
}

/** The pair and its clock. */
export class Wire {
  readonly branch: Side;
  readonly hub: Side;
  now = 1_000_000;
  /** Drops a datagram when it returns true. */
  drop: (s: SendAction, from: "branch" | "hub") => boolean = () => false;
  /** Datagrams delivered so far. */
  delivered = 0;
  /** NAT in front of the branch, if any. */
  nat: Nat | undefined;

  /** `make` builds each side's engine (the IKEv1 engine by default). */
  constructor(
    branch: IkePolicy = branchPolicy(),
    hub: IkePolicy = hubPolicy(),
    make: (p: IkePolicy, side: "branch" | "hub") => IkeResponder = (p) => createIkeV1Responder(p),
  ) {
    this.branch = { engine: make(branch, "branch"), sas: new Map(), log: [], timer: undefined };
    this.hub = { engine: make(hub, "hub"), sas: new Map(), log: [], timer: undefined };
  }

  /** Carries out `actions` of `from`, delivering sends to the other side (recursively). */
  run(from: "branch" | "hub", actions: IkeAction[], depth = 0): void {
    const me = from === "branch" ? this.branch : this.hub;
    const other = from === "branch" ? this.hub : this.branch;
    for (const a of actions) {
      me.log.push(a);
      if (a.kind === "installSa") me.sas.set(`${a.spec.direction}:${a.spec.spi}`, a.spec);
      else if (a.kind === "deleteSa") me.sas.delete(`${a.direction}:${a.spi}`);
      else if (a.kind === "timer") me.timer = a.at;
    }
    for (const a of actions) {
      if (a.kind !== "send") continue;
      if (this.drop(a, from) || depth > 50) continue;
      this.delivered++;
      let src = a.local;
      let dst = a.remote;
      if (this.nat !== undefined) {
        if (from === "branch") {
          src = {
            address: this.nat.address,
            port: a.local.port === 500 ? this.nat.port500 : this.nat.port4500,
          };
        } else {
          dst = { address: BRANCH_IP, port: a.remote.port === this.nat.port500 ? 500 : 4500 };
        }
      }
      this.run(
        from === "branch" ? "hub" : "branch",
        other.engine.handle(a.datagram, dst, src, this.now),
        depth + 1,
      );
    }
  }

  /** The branch dials. */
  dial(remote = HUB_IP): void {
    this.run("branch", this.branch.engine.initiate!("hq", remote, this.now));
  }

  /** Advances the clock to `t`, firing timers due on the way (at most `limit` of them). */
  advance(t: number, limit = 10_000): void {
    for (let i = 0; i < limit; i++) {
      const due = [this.branch, this.hub]
        .filter((s) => s.timer !== undefined && s.timer <= t)
        .sort((a, b) => a.timer! - b.timer!)[0];
      if (due === undefined) break;
      this.now = Math.max(this.now, due.timer!);
      due.timer = undefined;
      this.run(due === this.branch ? "branch" : "hub", due.engine.tick(this.now));
    }
    this.now = Math.max(this.now, t);
  }
}

/** Connection events among actions. */
export function connections(actions: readonly IkeAction[]): ConnectionAction[] {
  return actions.filter((a): a is ConnectionAction => a.kind === "connection");
}

/** Event lines among actions. */
export function lines(actions: readonly IkeAction[]): string[] {
  return actions.filter((a): a is EventAction => a.kind === "event").map((e) =>
    `${e.peer}: ${e.message}`
  );
}

/** Installs among actions. */
export function installs(actions: readonly IkeAction[]): EspSaSpec[] {
  return actions.filter((a): a is InstallSaAction => a.kind === "installSa").map((a) => a.spec);
}

/**
 * Checks that every outbound SA of one side has the other side's inbound SA with the same SPI,
 * algorithms and key material; returns the number of matched pairs.
 */
export function matchedPairs(a: Side, b: Side): number {
  let n = 0;
  for (const [k, out] of a.sas) {
    if (!k.startsWith("out:")) continue;
    const inb = b.sas.get(`in:${out.spi}`);
    if (inb === undefined) {
      throw new Error(`no inbound SA ${out.spi.toString(16)} on the other side`);
    }
    if (JSON.stringify(inb.transform) !== JSON.stringify(out.transform)) {
      throw new Error("transforms differ");
    }
    if (
      inb.keyMaterial.length !== out.keyMaterial.length ||
      !inb.keyMaterial.every((x, i) => x === out.keyMaterial[i])
    ) {
      throw new Error(`key material differs for SPI ${out.spi.toString(16)}`);
    }
    n++;
  }
  return n;
}
