/**
 * Root: a `trap` peer (branchgate ↔ branchgate, IKEv1): nothing is dialled until the first
 * packet for remote_ts; that packet (routed into the TUN device before any SA exists) makes the
 * branch dial, and the pings that follow cross the tunnel.
 */

import assert from "node:assert/strict";
import { bringUpPair } from "./lib/bg_pair.ts";
import { withLab } from "./lib/netns.ts";
import { twoSites } from "./lib/topology.ts";
import { ping } from "./lib/traffic.ts";
import { waitFor } from "./lib/wait.ts";

Deno.test({
  name: "IKEv1 initiator: a trap peer comes up on the first ping",
  ignore: Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withLab(async (lab) => {
      const sites = await twoSites(lab);
      const { a } = await bringUpPair(lab, sites, {
        psk: "interop-trap-psk-0001",
        startAction: "trap",
      });
      await new Promise((r) => setTimeout(r, 1500));
      assert.match(await a.show("peers"), /^\s*hub\s.*\btrap\b/m, "nothing dialled before traffic");
      assert.match(await a.show("ike sa"), /no IKE SAs/);
      const r = await ping(lab, sites.a.host, sites.b.hostAddress, { count: 15, interval: 0.2 });
      assert.ok(r.received >= 5, `ping across the trapped tunnel: ${r.received}/${r.sent}`);
      await waitFor(
        async () => /^\s*hub\s.*\bup\b/m.test(await a.show("peers")) ? true : undefined,
        {
          timeoutMs: 10_000,
          what: "trap peer up",
        },
      );
      console.log(`trap: ${r.received}/${r.sent} echo replies, the first ones lost while dialling`);
    }),
});
