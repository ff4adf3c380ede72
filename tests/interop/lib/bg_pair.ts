/**
 * branchgate on both gateways of the {@link TwoSites} topology, each with its own IKE: side A
 * dials (`start_action = "start"`, or "trap": on its first packet), side B answers. With
 * "start" it resolves once A's `show peers` says up.
 * @module
 */

import { BranchgateDaemon } from "./branchgate.ts";
import type { BgPeer } from "./branchgate_conf.ts";
import type { Lab } from "./netns.ts";
import type { TwoSites } from "./topology.ts";
import { waitFor } from "./wait.ts";

/** Options of {@link bringUpPair}. */
export interface PairOptions {
  /** Test-only PSK. */
  readonly psk: string;
  /** ESP proposal (default aes128gcm16). */
  readonly esp?: string;
  /** UDP-encapsulate ESP (default true: the batched UDP path is the faster one). */
  readonly encap?: boolean;
  /** Extra settings of both peers (lifetimes, DPD). */
  readonly peer?: Partial<BgPeer>;
  /** Extra settings of side A's peer only (after {@link peer}). */
  readonly branch?: Partial<BgPeer>;
  /** Extra settings of side B's peer only (after {@link peer}). */
  readonly hub?: Partial<BgPeer>;
  /** How A brings the tunnel up (default "start"; with "trap" nothing is awaited). */
  readonly startAction?: "start" | "trap";
}

/** The two daemons. */
export interface Pair {
  /** Side A, the initiator. */
  readonly a: BranchgateDaemon;
  /** Side B, the responder. */
  readonly b: BranchgateDaemon;
  /** Starts side B again under another `name` with the same config (after a kill). */
  readonly restartB: (name: string) => Promise<BranchgateDaemon>;
}

/** Starts both daemons and waits until A's tunnel to B is up (at most 60 s). */
export async function bringUpPair(lab: Lab, sites: TwoSites, o: PairOptions): Promise<Pair> {
  const common = {
    psk: o.psk,
    ikeProposals: ["aes128-sha256-modp2048"],
    espProposals: [o.esp ?? "aes128gcm16"],
    encap: o.encap ?? true,
    ...o.peer,
  };
  const startB = (name: string) =>
    BranchgateDaemon.start(lab, {
      name,
      ns: sites.b.gw,
      config: {
        listen: [sites.b.outerAddress],
        logLevel: "info",
        peers: [{
          ...common,
          ...o.hub,
          name: "branch",
          remote: sites.a.outerAddress,
          localTs: [sites.b.lan],
          remoteTs: [sites.a.lan],
        }],
      },
    });
  const b = await startB("pair-b");
  const a = await BranchgateDaemon.start(lab, {
    name: "pair-a",
    ns: sites.a.gw,
    config: {
      listen: [sites.a.outerAddress],
      logLevel: "info",
      peers: [{
        ...common,
        ...o.branch,
        name: "hub",
        remote: sites.b.outerAddress,
        startAction: o.startAction ?? "start",
        localTs: [sites.a.lan],
        remoteTs: [sites.b.lan],
      }],
    },
  });
  if (o.startAction === "trap") return { a, b, restartB: startB };
  await waitFor(async () => /^\s*hub\s.*\bup\b/m.test(await a.show("peers")) ? true : undefined, {
    timeoutMs: 60_000,
    intervalMs: 300,
    what: "branchgate ↔ branchgate tunnel up",
  });
  return { a, b, restartB: startB };
}

/** The Unix ms times (from the log's `ts=`) of `daemon`'s log lines matching `re`, from `since`. */
async function logTimes(daemon: BranchgateDaemon, since: number, re: RegExp): Promise<number[]> {
  const out: number[] = [];
  for (const line of (await daemon.log()).split("\n")) {
    if (!re.test(line)) continue;
    const t = Date.parse(line.match(/^ts=(\S+)/)?.[1] ?? "");
    if (t >= since) out.push(t);
  }
  return out;
}

/**
 * When `daemon` logged a child SA it negotiated itself at or after `since` (Unix ms): with
 * IKEv1 as the Quick Mode initiator (its own dials and rekeys), with IKEv2 as the initiator of
 * a CHILD_SA rekey (RFC 7296 §1.3.3).
 */
export function ownChildTimes(
  daemon: BranchgateDaemon,
  since: number,
  version: 1 | 2 = 1,
): Promise<number[]> {
  const re = version === 1
    ? /msg="child SA established \(we initiated\)"/
    : /msg="CHILD_SA rekeyed".*\binitiated=true/;
  return logTimes(daemon, since, re);
}

/** When `daemon` rekeyed an IKEv2 IKE SA itself (RFC 7296 §1.3.2) at or after `since`. */
export function ownIkeRekeyTimes(daemon: BranchgateDaemon, since: number): Promise<number[]> {
  return logTimes(daemon, since, /msg="IKE SA rekeyed \(by us\)"/);
}
