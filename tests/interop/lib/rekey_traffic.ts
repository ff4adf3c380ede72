/**
 * Traffic across rekeys between the two LAN hosts of a {@link TwoSites} lab, for the
 * branchgate ↔ branchgate rekey tests of both IKE versions: a ping train (`ping -D`, 20 ms
 * apart) runs while iperf3 TCP goes A→B then B→A, then until the caller's condition holds
 * (its rekeys happened); the train's counts and the kernel queue drops meanwhile are what
 * {@link rekeyLoss} judges.
 * @module
 */

import assert from "node:assert/strict";
import type { Lab } from "./netns.ts";
import type { TwoSites } from "./topology.ts";
import {
  grown,
  iperfTcp,
  type PingResult,
  queueDrops,
  rekeyLoss,
  startPingTrain,
} from "./traffic.ts";
import { waitFor } from "./wait.ts";

/** Options of {@link trafficAcrossRekeys}. */
export interface RekeyTrafficOptions {
  /** Names the ping train's output file in the lab directory. */
  readonly name: string;
  /** Seconds of iperf3 each way. */
  readonly iperfSeconds: number;
  /** After iperf3: polled (every 500 ms) until it returns true — the rekeys awaited. */
  readonly until: () => Promise<boolean>;
  /** What {@link until} waits for, for the timeout's message. */
  readonly what: string;
  /** How long {@link until} may take after iperf3. */
  readonly timeoutMs: number;
  /** After the train: the instants (Unix ms) of the rekeys that may lose packets in flight. */
  readonly rekeys: () => Promise<number[]>;
}

/** What {@link trafficAcrossRekeys} saw. */
export interface RekeyTraffic {
  /** The ping train. */
  readonly pings: PingResult;
  /** The rekey instants judged. */
  readonly rekeys: number[];
  /** {@link rekeyLoss}'s summary. */
  readonly summary: string;
  /** iperf3's goodput A→B and B→A, bits/s. */
  readonly bps: readonly [number, number];
  /** When iperf3 ran (Unix ms, from the first start to the last end). */
  readonly tcp: { readonly from: number; readonly to: number };
}

/**
 * Runs the ping train and iperf3 both ways (TCP must never stall for a second, and carry more
 * than 5 Mbit/s), waits for {@link RekeyTrafficOptions.until}, and asserts that the train ran
 * and lost only packets in flight at the rekeys ({@link rekeyLoss}).
 */
export async function trafficAcrossRekeys(
  lab: Lab,
  sites: TwoSites,
  o: RekeyTrafficOptions,
): Promise<RekeyTraffic> {
  const gws = [sites.a.gw, sites.b.gw];
  const queues0 = await queueDrops(lab, gws);
  const train = startPingTrain(lab, sites.a.host, sites.b.hostAddress, o.name, {
    interval: 0.02,
    from: sites.a.hostAddress,
    timestamps: true,
  });
  const bps: number[] = [];
  const tcpFrom = Date.now();
  let tcpTo = tcpFrom;
  let pings;
  try {
    const hostA = { ns: sites.a.host, address: sites.a.hostAddress };
    const hostB = { ns: sites.b.host, address: sites.b.hostAddress };
    for (const reverse of [false, true]) {
      const tcp = await iperfTcp(lab, hostA, hostB, o.iperfSeconds, reverse);
      const dir = reverse ? "B→A" : "A→B";
      assert.ok(
        tcp.intervals.every((x) => x > 0),
        `${dir}: TCP stalled for a second: ${tcp.intervals.map((x) => (x / 1e6).toFixed(0))}`,
      );
      assert.ok(tcp.bps > 5e6, `${dir}: ${(tcp.bps / 1e6).toFixed(1)} Mbit/s`);
      bps.push(tcp.bps);
    }
    tcpTo = Date.now();
    await waitFor(async () => (await o.until()) || undefined, {
      timeoutMs: o.timeoutMs,
      intervalMs: 500,
      what: o.what,
    });
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    pings = await train.finish();
  }
  const rekeys = await o.rekeys();
  const queues = grown(queues0, await queueDrops(lab, gws));
  const v = rekeyLoss(pings, rekeys, queues);
  assert.ok(pings.sent > 500, `ping train ran: ${pings.output.slice(-300)}`);
  assert.equal(v.failure, undefined, v.summary);
  return {
    pings,
    rekeys,
    summary: v.summary,
    bps: [bps[0]!, bps[1]!],
    tcp: { from: tcpFrom, to: tcpTo },
  };
}
