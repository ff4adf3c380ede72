/**
 * Root: branchgate as the IKEv1 initiator (start_action = "start"). One lab, in order:
 * branchgate dials Debian's strongSwan 5.9.8 (responder), pings through and rekeys its child
 * under a ping train and iperf3 (no ESP reaches strongSwan for an SA it lacks); strongSwan goes
 * away (kill) and a branchgate responder takes its place: the branch notices the dead peer
 * (DPD) and dials again by itself; ping and iperf3 both ways branchgate ↔ branchgate; the
 * responder is killed with SIGKILL and restarted: the tunnel comes back within 60 s; a ping
 * train and iperf3 across the branch's own child rekey (60 s children, rekey_margin 40 s) lose
 * at most the packets in flight (the hub's own rekeys: pair_v1_rekey_test.ts).
 */

import assert from "node:assert/strict";
import { BranchgateDaemon } from "./lib/branchgate.ts";
import type { BgPeer } from "./lib/branchgate_conf.ts";
import { withLab } from "./lib/netns.ts";
import { StrongswanPeer } from "./lib/strongswan.ts";
import { twoSites } from "./lib/topology.ts";
import { grown, iperfTcp, ping, queueDrops, rekeyLoss, startPingTrain } from "./lib/traffic.ts";
import { ownChildTimes } from "./lib/bg_pair.ts";
import { waitFor } from "./lib/wait.ts";

const PSK = "interop-initiator-psk-0001";
/** kernel-libipsec's log line for an inbound ESP packet whose SPI names no installed SA. */
const NO_SA_AT_STRONGSWAN = "inbound ESP packet does not belong to an installed SA";

Deno.test({
  name: "IKEv1 initiator: dials strongSwan, re-dials a replacement, survives kill -9",
  ignore: Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withLab(async (lab) => {
      const { a, b } = await twoSites(lab);
      const branchPeer: BgPeer = {
        name: "hq",
        remote: b.outerAddress,
        psk: PSK,
        startAction: "start",
        ikeProposals: ["aes128-sha256-modp2048"],
        espProposals: ["aes128gcm16-modp2048"],
        localTs: [a.lan],
        remoteTs: [b.lan],
        // strongSwan 5.9's kernel-libipsec only does UDP-encapsulated ESP.
        encap: true,
        dpdDelay: 2,
        dpdTimeout: 6,
        // Short children: the branch rekeys them itself every 10-20 s all through the test.
        espLifetime: 60,
        rekeyMargin: 40,
      };
      const branch = await BranchgateDaemon.start(lab, {
        name: "branch",
        ns: a.gw,
        config: { listen: [a.outerAddress], peers: [branchPeer] },
      });
      const up = async (what: string, timeoutMs: number) => {
        await waitFor(async () => {
          const peers = await branch.show("peers");
          return /^\s*hq\s.*\bup\b/m.test(peers) ? true : undefined;
        }, { timeoutMs, intervalMs: 500, what });
        const r = await ping(lab, a.host, b.hostAddress, { count: 5 });
        assert.ok(r.received >= 4, `${what}: ping ${r.received}/${r.sent}`);
      };

      /**
       * A ping train (and iperf3 back to back) across at least one child rekey by the branch:
       * only packets in flight may be lost (rekeyLoss). Returns when the train ends.
       */
      const rekeysUnderTraffic = async (hub: string) => {
        const t4 = Date.now();
        const queues0 = await queueDrops(lab, [a.gw, b.gw]);
        const train = startPingTrain(lab, a.host, b.hostAddress, `rekey-${hub}`, {
          interval: 0.02,
          from: a.hostAddress,
          timestamps: true,
        });
        let r;
        try {
          // iperf3 runs back to back until the branch has rekeyed (children of 60 s with a
          // 40 s margin: 10-20 s after the last one).
          const deadline = Date.now() + 60_000;
          while ((await ownChildTimes(branch, t4)).length === 0) {
            assert.ok(Date.now() < deadline, "a child rekey by the branch within 60 s");
            const tcp = await iperfTcp(
              lab,
              { ns: a.host, address: a.hostAddress },
              { ns: b.host, address: b.hostAddress },
              4,
            );
            assert.ok(tcp.intervals.every((x) => x > 0), `TCP stalled: ${tcp.intervals}`);
          }
          await new Promise((ok) => setTimeout(ok, 1000));
        } finally {
          r = await train.finish();
        }
        const v = rekeyLoss(
          r,
          await ownChildTimes(branch, t4),
          grown(queues0, await queueDrops(lab, [a.gw, b.gw])),
        );
        console.log(`rekey by the branch under traffic, ${hub} answering: ${v.summary}`);
        assert.ok(r.sent > 100, `ping train sent ${r.sent}`);
        assert.equal(v.failure, undefined, v.summary);
      };

      // 1. strongSwan as the responder.
      const swan = await StrongswanPeer.start(lab, {
        name: "hub",
        ns: b.gw,
        // ESP at level 2: libipsec logs there each packet for an SPI it has no SA for.
        charon: { logLevels: { esp: 2 } },
        config: {
          connections: [{
            name: "branch",
            version: 1,
            localAddrs: [b.outerAddress],
            remoteAddrs: [a.outerAddress],
            proposals: ["aes128-sha256-modp2048"],
            encap: true,
            dpdDelay: 2,
            dpdTimeout: 6,
            children: [{
              name: "net",
              localTs: [b.lan],
              remoteTs: [a.lan],
              espProposals: ["aes128gcm16-modp2048"],
            }],
          }],
          secrets: [{ name: "branch", ids: [a.outerAddress, b.outerAddress], secret: PSK }],
        },
      });
      await up("branchgate dialled strongSwan", 40_000);
      const sas = await swan.listSas();
      assert.equal(sas.length, 1, JSON.stringify(sas));
      assert.ok(/ESTABLISHED/i.test(JSON.stringify(sas)), JSON.stringify(sas));
      const shown = await branch.show("ike sa");
      assert.match(shown, /hq: ESTABLISHED/);
      // The branch rekeys its child under traffic; strongSwan installs its new SAs only when
      // our message 3 arrives, so ESP on the new SA before that would find no SA there
      // (libipsec logs each such packet at ESP level 2: 324 of them before the branch kept
      // its new outbound SA on standby); it waits for the first packet on the new pair now.
      const unknownSpi = async () =>
        (await swan.log()).split("\n").filter((l) => l.includes(NO_SA_AT_STRONGSWAN)).length;
      const noSa0 = await unknownSpi();
      await rekeysUnderTraffic("strongSwan");
      const noSa = (await unknownSpi()) - noSa0;
      console.log(`strongSwan: ${noSa} inbound ESP packets for no installed SA across the rekey`);
      assert.equal(noSa, 0, "ESP on the new SA before strongSwan installed it");

      // 2. The hub is replaced by branchgate (no Delete): DPD, then a new dial.
      await swan.kill();
      const hubPeer: BgPeer = {
        name: "branch1",
        remote: a.outerAddress,
        psk: PSK,
        ikeProposals: ["aes128-sha256-modp2048"],
        espProposals: ["aes128gcm16-modp2048"],
        localTs: [b.lan],
        remoteTs: [a.lan],
        encap: true,
      };
      const hub = await BranchgateDaemon.start(lab, {
        name: "hub",
        ns: b.gw,
        config: { listen: [b.outerAddress], peers: [hubPeer] },
      });
      await branch.waitForLog(/dead peer/, { timeoutMs: 30_000 });
      await up("branchgate re-dialled the new hub", 60_000);
      for (const reverse of [false, true]) {
        const run = await iperfTcp(
          lab,
          { ns: a.host, address: a.hostAddress },
          { ns: b.host, address: b.hostAddress },
          2,
          reverse,
        );
        assert.ok(run.bps > 5e6, `iperf3 ${reverse ? "B→A" : "A→B"} ${run.bps}`);
      }

      // 3. kill -9 the responder and restart it: the tunnel comes back by itself in 60 s
      // (counted from the restart; DPD 2 + 6 s, then a new dial). The probes poll well past
      // that, so a slow machine shows how late it was rather than a bare timeout.
      await hub.kill();
      await BranchgateDaemon.start(lab, {
        name: "hub2",
        ns: b.gw,
        config: { listen: [b.outerAddress], peers: [hubPeer] },
      });
      const t0 = Date.now();
      await waitFor(async () => {
        const r = await ping(lab, a.host, b.hostAddress, { count: 3, interval: 0.3 });
        return r.received > 0 ? true : undefined;
      }, { timeoutMs: 120_000, intervalMs: 500, what: "tunnel back after kill -9" });
      const took = Date.now() - t0;
      console.log(`tunnel back ${(took / 1000).toFixed(1)} s after the restart of the responder`);
      assert.ok(took < 60_000, `back ${took} ms after the restart (the issue allows 60 s)`);

      // 4. Rekeys by the initiator under ping and TCP, now to branchgate.
      await rekeysUnderTraffic("branchgate");
    }),
});
