/**
 * Traffic through the negotiated tunnel (RFC 4303 tunnel mode in UDP, RFC 3948): ping and
 * short iperf3 TCP runs in both directions over an AES-GCM-16 and an AES-CBC + HMAC-SHA-256
 * CHILD_SA, and a ping train and a TCP stream while the peer rekeys the CHILD_SA twice: no
 * more than the packets in flight may be lost, and TCP never stalls for a whole second.
 * @module
 */

import assert from "node:assert/strict";
import { assertAgreement, initiatorIke } from "../agree.ts";
import type { Ikev1Lab } from "../ikev1_lab.ts";
import type { Scenario } from "../suite.ts";
import { iperfTcp, startPingTrain } from "../traffic.ts";
import { waitFor } from "../wait.ts";
import { pingBothWays, tearDown } from "./main_mode.ts";

const TCP_SECONDS = 3;

async function bothDirections(L: Ikev1Lab, label: string): Promise<void> {
  const a = { ns: L.sites.a.host, address: L.sites.a.hostAddress };
  const b = { ns: L.sites.b.host, address: L.sites.b.hostAddress };
  for (const [client, server, reverse] of [[a, b, false], [a, b, true]] as const) {
    const run = await iperfTcp(L.lab, client, server, TCP_SECONDS, reverse);
    const dir = reverse ? "B→A" : "A→B";
    assert.ok(run.bps > 5e6, `${label} ${dir}: ${(run.bps / 1e6).toFixed(1)} Mbit/s`);
  }
}

/** Tears down every SA of `connection` the initiator holds. */
async function tearDownAll(L: Ikev1Lab, connection: string): Promise<void> {
  const ike = await initiatorIke(L.initiator, connection);
  assert.ok(ike);
  const spis = ike.children.flatMap((c) => [c.spiIn, c.spiOut]);
  await tearDown(L, connection, ike.initiatorSpi, spis);
}

/** The traffic scenarios, in order. */
export const TRAFFIC: readonly Scenario[] = [
  {
    name: "AES-GCM-16 CHILD_SA: ping and iperf3 TCP both ways",
    fn: async (L) => {
      await L.initiator.initiate("ecp");
      await assertAgreement(L.initiator, L.responder, {
        connection: "hq-ecp",
        peer: "hq",
        ike: "aes128-sha1-ecp256",
        children: { ecp: { transform: "aes128gcm16" } },
      });
      await pingBothWays(L);
      await bothDirections(L, "aes128gcm16");
      // The responder's counters saw the traffic.
      const esp = (await L.responder.espSas()).filter((s) => s.peer === "hq");
      assert.ok(esp.every((s) => s.packets > 1000), JSON.stringify(esp));
      await tearDownAll(L, "hq-ecp");
    },
  },
  {
    name: "AES-CBC + HMAC-SHA-256-128 CHILD_SA: ping and iperf3 TCP both ways",
    fn: async (L) => {
      await L.initiator.initiate("modp");
      await assertAgreement(L.initiator, L.responder, {
        connection: "hq-modp",
        peer: "hq",
        ike: "aes256-sha256-modp2048",
        children: { modp: { transform: "aes128-sha256" } },
      });
      await pingBothWays(L);
      await bothDirections(L, "aes128-sha256");
      await tearDownAll(L, "hq-modp");
    },
  },
  {
    name: "two peer rekeys during a ping train and a TCP stream lose only packets in flight",
    fn: async (L) => {
      await L.initiator.initiate("rk-qm");
      const first = await assertAgreement(L.initiator, L.responder, {
        connection: "rekey-qm",
        peer: "rekey",
        ike: "aes128-sha256-modp2048",
        children: { "rk-qm": { transform: "aes128gcm16" } },
      });
      const spi0 = first.children.get("rk-qm")!.spiIn;
      const train = startPingTrain(L.lab, L.sites.a.host, L.sites.b.hostAddress, "rekey", {
        interval: 0.02,
        from: L.sites.a.hostAddress,
      });
      let result;
      try {
        // rekey_time 6 s: two rekeys (and the Deletes of the old SAs 5 s after each) in 14 s.
        const tcp = await iperfTcp(
          L.lab,
          { ns: L.sites.a.host, address: L.sites.a.hostAddress },
          { ns: L.sites.b.host, address: L.sites.b.hostAddress },
          14,
        );
        assert.ok(
          tcp.intervals.every((bps) => bps > 0),
          `TCP stalled for a second: ${tcp.intervals.map((b) => (b / 1e6).toFixed(0))}`,
        );
      } finally {
        result = await train.finish();
      }
      const spis = new Set(
        (await L.initiator.childSas()).filter((c) => c.name === "rk-qm").map((c) => c.spiIn),
      );
      assert.ok(!spis.has(spi0), "the first CHILD_SA was replaced");
      await waitFor(async () => {
        const log = await L.initiator.log();
        return (log.match(/CHILD_SA rk-qm\{\d+\} established/g) ?? []).length >= 3 || undefined;
      }, { timeoutMs: 1000, what: "two rekeys of rk-qm" });
      const lost = result.sent - result.received;
      assert.ok(result.sent > 300, `ping train ran: ${result.output.slice(-300)}`);
      assert.ok(lost <= 2, `${lost} of ${result.sent} pings lost across two rekeys`);
      await tearDownAll(L, "rekey-qm");
    },
  },
];
