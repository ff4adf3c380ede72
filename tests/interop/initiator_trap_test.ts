/**
 * Root: a `trap` peer (branchgate ↔ branchgate, IKEv1): nothing is dialled until the first
 * packet for remote_ts; that packet (routed into the TUN device before any SA exists) makes the
 * branch dial and waits in its data path meanwhile: the very first echo request is answered
 * (ping -c1 -W10), and the pings that follow cross the tunnel.
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
      const t0 = Date.now();
      const first = await ping(lab, sites.a.host, sites.b.hostAddress, { count: 1, wait: 10 });
      const took = Date.now() - t0;
      assert.equal(first.received, 1, `the first echo request was held and sent: ${first.output}`);
      const r = await ping(lab, sites.a.host, sites.b.hostAddress, { count: 10, interval: 0.2 });
      assert.ok(r.received >= 9, `ping across the trapped tunnel: ${r.received}/${r.sent}`);
      assert.doesNotMatch(await a.show("drops"), /trap-hold/, "nothing held was dropped");
      await waitFor(
        async () => /^\s*hub\s.*\bup\b/m.test(await a.show("peers")) ? true : undefined,
        {
          timeoutMs: 10_000,
          what: "trap peer up",
        },
      );
      console.log(
        `trap: the first echo reply after ${took} ms (held while dialling); then ` +
          `${r.received}/${r.sent}`,
      );
    }),
});
