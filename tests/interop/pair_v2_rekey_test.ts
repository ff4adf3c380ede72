/**
 * Root: branchgate ↔ branchgate (IKEv2, each its own IKE), rekeys by both sides under traffic.
 * Both peers have esp_lifetime 60 s, ike_lifetime 90 s and rekey_margin 45 s: each side's
 * CHILD_SA soft lifetime falls 4-15 s after the child was made (the margin's jitter, RFC 7296
 * §2.8.1), so whichever side's comes first rekeys it (CREATE_CHILD_SA, §1.3.3), the hub as
 * often as the branch, and the IKE SA is rekeyed 34-45 s after it was made (§1.3.2). A ping
 * train and iperf3 TCP both ways run until both sides have rekeyed a CHILD_SA and one IKE SA
 * rekey is done (at least one CHILD_SA rekey falls within iperf3): TCP never stalls for a
 * second and only the echo requests in flight at a CHILD_SA rekey may be lost (rekeyLoss() of
 * lib/traffic.ts). Afterwards both sides hold the same new IKE SA and one pair of crossed ESP
 * SPIs, nothing was re-dialled, and no SA expired or failed to rekey. The IKEv1 counterpart:
 * pair_v1_rekey_test.ts.
 */

import assert from "node:assert/strict";
import { bringUpPair, ownChildTimes, ownIkeRekeyTimes } from "./lib/bg_pair.ts";
import type { BranchgateDaemon } from "./lib/branchgate.ts";
import { withLab } from "./lib/netns.ts";
import { trafficAcrossRekeys } from "./lib/rekey_traffic.ts";
import { parseShowEspSa, parseShowIkeSa } from "./lib/show_parse.ts";
import { twoSites } from "./lib/topology.ts";
import { waitFor } from "./lib/wait.ts";

/** Both tables, when they agree: one IKE SA with the same SPIs, one pair of crossed ESP SPIs. */
async function agreed(a: BranchgateDaemon, b: BranchgateDaemon) {
  const [ia, ib] = [parseShowIkeSa(await a.show("ike sa")), parseShowIkeSa(await b.show("ike sa"))];
  const [ea, eb] = [parseShowEspSa(await a.show("esp sa")), parseShowEspSa(await b.show("esp sa"))];
  if (ia.length !== 1 || ib.length !== 1 || ea.length !== 2 || eb.length !== 2) return undefined;
  if (ia[0]!.state !== "ESTABLISHED" || ib[0]!.state !== "ESTABLISHED") return undefined;
  if (ia[0]!.initiatorSpi !== ib[0]!.initiatorSpi) return undefined;
  if (ia[0]!.responderSpi !== ib[0]!.responderSpi) return undefined;
  const spi = (e: typeof ea, dir: "in" | "out") => e.find((x) => x.direction === dir)?.spi;
  if (spi(ea, "in") === undefined || spi(ea, "out") === undefined) return undefined;
  if (spi(ea, "in") !== spi(eb, "out") || spi(ea, "out") !== spi(eb, "in")) return undefined;
  return { ike: ia[0]!, spiIn: spi(ea, "in")!, spiOut: spi(ea, "out")! };
}

/** The tables once they agree: a rekey every 4-15 s may fall between two readings. */
function agreement(a: BranchgateDaemon, b: BranchgateDaemon, what: string) {
  return waitFor(() => agreed(a, b), { timeoutMs: 15_000, intervalMs: 200, what });
}

/** Log lines of `d` matching `re`. */
async function lines(d: BranchgateDaemon, re: RegExp): Promise<string[]> {
  return (await d.log()).split("\n").filter((l) => re.test(l));
}

Deno.test({
  name: "IKEv2 branchgate ↔ branchgate: both sides rekey CHILD_SAs and the IKE SA under traffic",
  ignore: Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withLab(async (lab) => {
      const sites = await twoSites(lab);
      const started = Date.now();
      const { a, b } = await bringUpPair(lab, sites, {
        psk: "interop-pair-v2-rekey-psk-0001",
        peer: { ikeVersion: 2, espLifetime: 60, ikeLifetime: 90, rekeyMargin: 45 },
      });
      const t0 = Date.now();
      try {
        const first = await agreement(a, b, "both sides agree on the first SAs");
        const children = async () =>
          [...await ownChildTimes(a, t0, 2), ...await ownChildTimes(b, t0, 2)].sort();
        const r = await trafficAcrossRekeys(lab, sites, {
          name: "pair-v2-rekey",
          iperfSeconds: 10,
          until: async () =>
            (await ownChildTimes(a, t0, 2)).length >= 1 &&
            (await ownChildTimes(b, t0, 2)).length >= 1 &&
            (await ownIkeRekeyTimes(a, t0)).length + (await ownIkeRekeyTimes(b, t0)).length >= 1,
          what: "CHILD_SA rekeys by both sides and an IKE SA rekey",
          // The IKE SA's rekey is due 34-45 s after the tunnel; iperf3 took 20 s of them.
          timeoutMs: 60_000,
          // An IKE SA rekey moves the children: only CHILD_SA rekeys may lose packets.
          rekeys: children,
        });
        // A CHILD_SA rekey is due at most 15 s after the last: at least one under iperf3.
        const underTcp = r.rekeys.filter((t) => t >= r.tcp.from && t <= r.tcp.to).length;
        assert.ok(underTcp >= 1, `no CHILD_SA rekey during iperf3: ${r.summary}`);
        const last = await agreement(a, b, "both sides agree on the SAs after the rekeys");
        assert.notEqual(last.ike.initiatorSpi, first.ike.initiatorSpi, "a new IKE SA");
        assert.notEqual(last.spiIn, first.spiIn, "a new CHILD_SA");
        const dials = [
          await lines(a, /initiating IKEv2/),
          await lines(b, /initiating IKEv2/),
        ];
        assert.deepEqual(dials.map((d) => d.length), [1, 0], "rekeys, not re-dials");
        const bad = /rekey failed|hard lifetime|making it again|dead peer|rekey not started/;
        for (const d of [a, b]) assert.deepEqual(await lines(d, bad), [], "no failed rekey");
        const collisions = (await lines(a, /collision/)).length +
          (await lines(b, /collision/)).length;
        console.log(
          `IKEv2 pair rekeys in ${((Date.now() - t0) / 1000).toFixed(0)} s: CHILD_SA by the ` +
            `branch ${(await ownChildTimes(a, t0, 2)).length}, by the hub ` +
            `${(await ownChildTimes(b, t0, 2)).length}; IKE SA by the branch ` +
            `${(await ownIkeRekeyTimes(a, t0)).length}, by the hub ` +
            `${(await ownIkeRekeyTimes(b, t0)).length}; collision lines ${collisions}; ` +
            `${underTcp} CHILD_SA rekeys under iperf3 ` +
            `${r.bps.map((x) => (x / 1e6).toFixed(0)).join(" / ")} Mbit/s; ${r.summary}; ` +
            `wall ${((Date.now() - started) / 1000).toFixed(0)} s`,
        );
      } catch (e) {
        for (const [n, d] of [["branch", a], ["hub", b]] as const) {
          console.log(`--- ${n} log tail\n${(await d.log()).split("\n").slice(-60).join("\n")}`);
        }
        throw e;
      }
    }),
});
