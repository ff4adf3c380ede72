/**
 * Root: branchgate ↔ branchgate (IKEv1, each its own IKE), rekeys by the hub — the responder,
 * `start_action = "none"` — under traffic. The hub's esp_lifetime (60 s) is shorter than the
 * branch's offer (120 s): it answers with RESPONDER-LIFETIME, which the branch need not honour,
 * so the hub rekeys the child itself with a Quick Mode of its own at its soft lifetime
 * (rekey_margin 45 s), and again for the children it negotiated. A ping train and iperf3 TCP
 * both ways run across at least two such rekeys: TCP never stalls for a second, and only the
 * echo requests in flight at a rekey may be lost (the branch, now the Quick Mode responder,
 * has its inbound SA before the hub can send on it). The branch's own rekeys under traffic are
 * in initiator_v1_test.ts.
 */

import assert from "node:assert/strict";
import { bringUpPair, ownChildTimes } from "./lib/bg_pair.ts";
import { withLab } from "./lib/netns.ts";
import { twoSites } from "./lib/topology.ts";
import { grown, iperfTcp, queueDrops, rekeyLoss, startPingTrain } from "./lib/traffic.ts";
import { waitFor } from "./lib/wait.ts";

const PING_INTERVAL_MS = 20;

Deno.test({
  name: "IKEv1 branchgate ↔ branchgate: the hub (responder) rekeys under ping and iperf3",
  ignore: Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withLab(async (lab) => {
      const sites = await twoSites(lab);
      const { a, b } = await bringUpPair(lab, sites, {
        psk: "interop-pair-rekey-psk-0001",
        branch: { espLifetime: 120, rekeyMargin: 10 },
        hub: { espLifetime: 60, rekeyMargin: 45 },
      });
      const t0 = Date.now();
      const gws = [sites.a.gw, sites.b.gw];
      const queues0 = await queueDrops(lab, gws);
      const train = startPingTrain(lab, sites.a.host, sites.b.hostAddress, "pair-rekey", {
        interval: PING_INTERVAL_MS / 1000,
        from: sites.a.hostAddress,
        timestamps: true,
      });
      let result;
      try {
        const hostA = { ns: sites.a.host, address: sites.a.hostAddress };
        const hostB = { ns: sites.b.host, address: sites.b.hostAddress };
        for (const reverse of [false, true]) {
          const tcp = await iperfTcp(lab, hostA, hostB, 12, reverse);
          const dir = reverse ? "B→A" : "A→B";
          assert.ok(
            tcp.intervals.every((bps) => bps > 0),
            `${dir}: TCP stalled for a second: ${tcp.intervals.map((x) => (x / 1e6).toFixed(0))}`,
          );
          assert.ok(tcp.bps > 5e6, `${dir}: ${(tcp.bps / 1e6).toFixed(1)} Mbit/s`);
        }
        // The hub's first rekey comes 15 s after the tunnel, the next 4-15 s later.
        await waitFor(async () => (await ownChildTimes(b, t0)).length >= 2 || undefined, {
          timeoutMs: 60_000,
          intervalMs: 500,
          what: "two rekeys by the hub",
        });
        await new Promise((r) => setTimeout(r, 1000));
      } finally {
        result = await train.finish();
      }
      const rekeys = await ownChildTimes(b, t0);
      const byBranch = await ownChildTimes(a, t0);
      const queues = grown(queues0, await queueDrops(lab, gws));
      const v = rekeyLoss(result, rekeys, queues);
      console.log(`hub rekeys: ${rekeys.length} (branch: ${byBranch.length}); ${v.summary}`);
      assert.ok(result.sent > 500, `ping train ran: ${result.output.slice(-300)}`);
      assert.equal(v.failure, undefined, v.summary);
      // Both sides agree on the current child, and the traffic still flows.
      assert.match(await b.show("peers"), /^\s*branch\s/m);
      assert.match(await a.show("peers"), /^\s*hub\s.*\bup\b/m);
    }),
});
