/**
 * Hostile input against a live tunnel (root, lab namespaces): an attacker on another address
 * of the initiator's network (192.0.2.66) who saw the IKE SA's cookies in clear sends forged
 * encrypted Informational and Quick Mode datagrams to both IKE ports; then a flood of junk
 * and half-valid IKE datagrams on each port. The IKE SA must stay at the real peer (RFC 3947
 * §4), DPD must keep the tunnel, the responder's memory must stay bounded (branchgate: RSS
 * growth under 16 MiB) and a rekey by the peer must succeed right after the flood.
 * @module
 */

import assert from "node:assert/strict";
import { settledRss } from "../../../bench/footprint_lab.ts";
import { assertAgreement } from "../agree.ts";
import { BranchgateResponder } from "../branchgate_responder.ts";
import type { Ikev1Lab } from "../ikev1_lab.ts";
import type { Scenario } from "../suite.ts";
import { OUTER_IF } from "../topology.ts";
import { waitFor } from "../wait.ts";
import { pingBothWays } from "./main_mode.ts";

/** The attacker's address on the initiator's outer network. */
export const ATTACKER = "192.0.2.66";
/** Datagrams of the flood on each IKE port. */
export const FLOOD = Number(Deno.env.get("BG_FLOOD") ?? 300_000);
/** Largest RSS growth the flood may cause (KiB). */
const RSS_BUDGET_KIB = 16 * 1024;

const DPD = {
  connection: "rekey-dpd",
  peer: "rekey",
  ike: "aes128-sha256-modp2048",
  children: { "rk-dpd": { transform: "aes128gcm16" } },
} as const;

async function blast(L: Ikev1Lab, port: number, count: number, kind: string, extra: string[] = []) {
  const script = new URL("../ike_blast.ts", import.meta.url).pathname;
  const out = await L.lab.mustExec(L.sites.b.gw, [
    Deno.execPath(),
    "run",
    "--allow-all",
    script,
    ATTACKER,
    L.sites.a.outerAddress,
    String(port),
    String(count),
    kind,
    ...extra,
  ], { timeoutMs: 300_000 });
  const sent = (JSON.parse(out.trim().split("\n").at(-1)!) as { sent: number }).sent;
  assert.equal(sent, count, `blaster sent ${sent} of ${count}`);
}

/** branchgate's `show ike sa` block of the SA with initiator cookie `cky` ("" when gone). */
async function ikeRow(L: Ikev1Lab, cky: string): Promise<string> {
  if (!(L.responder instanceof BranchgateResponder)) return "";
  const text = await L.responder.daemon.show("ike sa");
  const lines = text.split("\n");
  const i = lines.findIndex((l) => l.includes(cky));
  return i < 1 ? "" : lines[i - 1]!;
}

async function assertAtPeer(L: Ikev1Lab, cky: string, what: string): Promise<void> {
  const sas = await L.responder.ikeSas();
  assert.ok(sas.some((s) => s.initiatorSpi === cky && s.state === "ESTABLISHED"), `${what}: SA up`);
  if (!(L.responder instanceof BranchgateResponder)) return;
  const row = await ikeRow(L, cky);
  assert.match(row, /<-> 192\.0\.2\.4:4500/, `${what}: ${row}`);
  assert.ok(!row.includes(ATTACKER), `${what}: moved to the attacker: ${row}`);
}

/** The hostile scenarios, in order. */
export const HOSTILE: readonly Scenario[] = [
  {
    name:
      "forged Informational/Quick Mode with the real cookies from another address: SA stays, DPD keeps it",
    fn: async (L) => {
      await L.lab.mustExec(L.sites.b.gw, ["ip", "addr", "add", `${ATTACKER}/24`, "dev", OUTER_IF]);
      await L.initiator.initiate("rk-dpd");
      const a = await assertAgreement(L.initiator, L.responder, DPD);
      const cky = a.responderIke.initiatorSpi;
      await assertAtPeer(L, cky, "before");
      for (const port of [4500, 500]) {
        await blast(L, port, 2_000, "forged", [cky, a.responderIke.responderSpi]);
      }
      await assertAtPeer(L, cky, "after the forgeries");
      // Past the responder's DPD timeout (3 s + 9 s) and the initiator's (2 s + 8 s): a moved
      // SA would have sent its DPD to the attacker and declared the peer dead by now.
      const end = Date.now() + 14_000;
      while (Date.now() < end) {
        await assertAtPeer(L, cky, "during DPD");
        await new Promise((r) => setTimeout(r, 1_000));
      }
      const again = await assertAgreement(L.initiator, L.responder, DPD);
      assert.equal(again.ike.initiatorSpi, a.ike.initiatorSpi, "the same IKE SA at the initiator");
      await pingBothWays(L);
    },
  },
  {
    name:
      `flood of ${FLOOD} datagrams on each of UDP 500 and 4500: memory bounded, tunnel up, rekey succeeds`,
    fn: async (L) => {
      const a = await assertAgreement(L.initiator, L.responder, DPD);
      const pid = L.responder instanceof BranchgateResponder ? L.responder.daemon.pid : undefined;
      const before = pid === undefined ? 0 : await settledRss(pid);
      const t0 = performance.now();
      const perPort: Record<string, number> = {};
      for (const port of [500, 4500]) {
        await blast(L, port, FLOOD, "flood");
        if (pid !== undefined) perPort[port] = await settledRss(pid);
      }
      const seconds = (performance.now() - t0) / 1000;
      await assertAtPeer(L, a.responderIke.initiatorSpi, "after the flood");
      if (pid !== undefined) {
        const after = await settledRss(pid);
        const drops = L.responder instanceof BranchgateResponder
          ? await L.responder.daemon.show("drops")
          : "";
        console.log(JSON.stringify({
          flood: { perPort: FLOOD, seconds: Math.round(seconds * 10) / 10 },
          rssKiB: { before, afterPort500: perPort[500], after, growth: after - before },
        }));
        console.log(drops);
        assert.ok(after - before < RSS_BUDGET_KIB, `RSS grew ${after - before} KiB`);
        assert.match(drops, /no-sa|no-peer|malformed/);
      }
      // A CHILD_SA rekey by the peer right after the flood.
      const old = a.children.get("rk-dpd")!;
      await L.initiator.rekey({ child: "rk-dpd" });
      await L.initiator.waitForSas(
        (sas) =>
          sas.flatMap((s) => s.children).some((c) =>
            c.name === "rk-dpd" && c.state === "INSTALLED" && c.spiIn !== old.spiIn
          ) || undefined,
        { timeoutMs: 30_000, what: "a rekeyed rk-dpd CHILD_SA" },
      );
      await waitFor(async () => {
        const esp = await L.responder.espSas();
        return esp.some((e) => e.spi !== old.spiIn && e.spi !== old.spiOut) || undefined;
      }, { timeoutMs: 15_000, what: "the new CHILD_SA at the responder" });
      await pingBothWays(L);
      await L.initiator.terminate({ ike: "rekey-dpd" });
    },
  },
];
