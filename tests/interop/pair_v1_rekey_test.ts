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
import { trafficAcrossRekeys } from "./lib/rekey_traffic.ts";

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
      // The hub's first rekey comes 15 s after the tunnel, the next 4-15 s later.
      const r = await trafficAcrossRekeys(lab, sites, {
        name: "pair-rekey",
        iperfSeconds: 12,
        until: async () => (await ownChildTimes(b, t0)).length >= 2,
        what: "two rekeys by the hub",
        timeoutMs: 60_000,
        rekeys: () => ownChildTimes(b, t0),
      });
      const byBranch = await ownChildTimes(a, t0);
      console.log(`hub rekeys: ${r.rekeys.length} (branch: ${byBranch.length}); ${r.summary}`);
      // Both sides agree on the current child, and the traffic still flows.
      assert.match(await b.show("peers"), /^\s*branch\s/m);
      assert.match(await a.show("peers"), /^\s*hub\s.*\bup\b/m);
    }),
});
