/**
 * Root: branchgate as the IKEv2 initiator (start_action = "start", RFC 7296 IKE_SA_INIT +
 * IKE_AUTH). (1) It dials Debian's strongSwan 5.9.8 as responder: both sides' tables agree
 * (`swanctl --list-sas` against `show ike sa` / `show esp sa`), ping and iperf3 cross both
 * ways; its rekeys of our SAs, its Delete of the only CHILD_SA (we make it again) and of the
 * IKE SA are handled; it is killed with SIGKILL and restarted: the branch's liveness check
 * declares it dead after its dpd_timeout and the tunnel comes back by itself within 30 s.
 * (2) branchgate ↔ branchgate with IKEv2 in two namespaces (tests/interop/lib/bg_pair.ts):
 * ping and iperf3 both ways, the same IKE SA and ESP SPIs on both sides, `clear ike sa`
 * re-dials, kill -9 of the hub is noticed after dpd_delay + dpd_timeout and re-dialled;
 * (3) a `trap` IKEv2 peer dials on the first ping.
 */

import assert from "node:assert/strict";
import { ikeProposal } from "./lib/alg_names.ts";
import { bringUpPair } from "./lib/bg_pair.ts";
import { BranchgateDaemon } from "./lib/branchgate.ts";
import type { BgPeer } from "./lib/branchgate_conf.ts";
import { withLab } from "./lib/netns.ts";
import { parseShowEspSa, parseShowIkeSa } from "./lib/show_parse.ts";
import { StrongswanPeer } from "./lib/strongswan.ts";
import type { PeerOptions } from "./lib/strongswan.ts";
import { twoSites } from "./lib/topology.ts";
import { iperfTcp, ping } from "./lib/traffic.ts";
import type { Lab } from "./lib/netns.ts";
import type { TwoSites } from "./lib/topology.ts";
import { waitFor } from "./lib/wait.ts";

const PSK = "interop-initiator-v2-psk-0001";

/** Ping both ways and iperf3 both ways between the two LAN hosts; returns the rates. */
async function traffic(lab: Lab, s: TwoSites, minBps: number): Promise<number[]> {
  for (const [from, to] of [[s.a.host, s.b.hostAddress], [s.b.host, s.a.hostAddress]] as const) {
    const r = await ping(lab, from, to, { count: 5 });
    assert.ok(r.received >= 4, `ping ${to}: ${r.received}/${r.sent}`);
  }
  const rates: number[] = [];
  for (const reverse of [false, true]) {
    const run = await iperfTcp(
      lab,
      { ns: s.a.host, address: s.a.hostAddress },
      { ns: s.b.host, address: s.b.hostAddress },
      2,
      reverse,
    );
    assert.ok(run.bps > minBps, `iperf3 ${reverse ? "B→A" : "A→B"} ${run.bps}`);
    rates.push(run.bps);
  }
  return rates;
}

async function peerUp(bg: BranchgateDaemon, name: string, what: string, timeoutMs: number) {
  await waitFor(async () => {
    const peers = await bg.show("peers");
    return new RegExp(`^\\s*${name}\\s.*\\bup\\b`, "m").test(peers) ? true : undefined;
  }, { timeoutMs, intervalMs: 500, what });
}

Deno.test({
  name: "IKEv2 initiator: dials strongSwan, tables agree, traffic, back after kill -9",
  ignore: Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withLab(async (lab) => {
      const s = await twoSites(lab);
      const { a, b } = s;
      const swanConfig: PeerOptions["config"] = {
        connections: [{
          name: "branch",
          version: 2,
          localAddrs: [b.outerAddress],
          remoteAddrs: [a.outerAddress],
          proposals: ["aes128-sha256-ecp256"],
          encap: true,
          dpdDelay: 2,
          children: [{
            name: "net",
            localTs: [b.lan],
            remoteTs: [a.lan],
            espProposals: ["aes128gcm16"],
          }],
        }],
        secrets: [{ name: "branch", ids: [a.outerAddress, b.outerAddress], secret: PSK }],
      };
      const swan = await StrongswanPeer.start(lab, { name: "hub", ns: b.gw, config: swanConfig });
      const branchPeer: BgPeer = {
        name: "hq",
        remote: b.outerAddress,
        psk: PSK,
        ikeVersion: 2,
        startAction: "start",
        // The first group is refused: an INVALID_KE_PAYLOAD round trip with strongSwan.
        ikeProposals: ["aes128-sha256-modp2048", "aes128-sha256-ecp256"],
        espProposals: ["aes128gcm16"],
        localTs: [a.lan],
        remoteTs: [b.lan],
        // strongSwan 5.9's kernel-libipsec only does UDP-encapsulated ESP.
        encap: true,
        dpdDelay: 2,
        dpdTimeout: 6,
      };
      const branch = await BranchgateDaemon.start(lab, {
        name: "branch",
        ns: a.gw,
        config: { listen: [a.outerAddress], logLevel: "info", peers: [branchPeer] },
      });
      const t0 = Date.now();
      await peerUp(branch, "hq", "branchgate dialled strongSwan (IKEv2)", 40_000);
      console.log(`IKEv2 tunnel to strongSwan up after ${Date.now() - t0} ms`);

      // Both tables: one IKE SA with the same SPIs, one child with crossed SPIs.
      const sas = await swan.listSas();
      assert.equal(sas.length, 1, JSON.stringify(sas));
      const ike = sas[0]!;
      assert.equal(ike.version, 2);
      assert.equal(ike.state, "ESTABLISHED");
      assert.equal(ike.initiator, false, "strongSwan is the responder");
      assert.equal(ikeProposal(ike), "aes128-sha256-prfsha256-ecp256");
      const ours = parseShowIkeSa(await branch.show("ike sa"));
      assert.equal(ours.length, 1, JSON.stringify(ours));
      assert.equal(ours[0]!.state, "ESTABLISHED");
      assert.equal(ours[0]!.initiatorSpi, ike.initiatorSpi);
      assert.equal(ours[0]!.responderSpi, ike.responderSpi);
      assert.equal(ours[0]!.proposal, ikeProposal(ike));
      const child = ike.children.find((c) => c.state === "INSTALLED");
      assert.ok(child, JSON.stringify(ike.children));
      const esp = parseShowEspSa(await branch.show("esp sa"));
      assert.ok(esp.some((e) => e.direction === "out" && e.spi === child.spiIn), "our out = in");
      assert.ok(esp.some((e) => e.direction === "in" && e.spi === child.spiOut), "our in = out");
      assert.ok(esp.every((e) => e.transform === "aes128gcm16"), JSON.stringify(esp));
      // RFC 7296 §2.23: with NAT-T (strongSwan's encap=yes fakes a NAT) IKE moved to 4500.
      assert.equal(ike.remotePort, 4500);
      assert.equal(ike.localPort, 4500);
      assert.match(await branch.log(), /INVALID_KE_PAYLOAD: retrying IKE_SA_INIT/);

      const rates = await traffic(lab, s, 1e6);
      console.log(
        `iperf3 through strongSwan: ${rates.map((r) => (r / 1e6).toFixed(0)).join(" / ")} Mbit/s`,
      );

      // strongSwan rekeys the CHILD_SA and the IKE SA we made (we answer CREATE_CHILD_SA on
      // our own IKE SA): the tunnel stays, nothing is re-dialled.
      const dials = async () =>
        (await branch.log()).split("\n").filter((l) => l.includes("initiating IKEv2")).length;
      assert.equal(await dials(), 1);
      await swan.rekey({ child: "net" });
      await swan.rekey({ ike: "branch" });
      const rekeyed = await waitFor(async () => {
        const now = await swan.listSas();
        const x = now.find((i) => i.state === "ESTABLISHED" && i.initiatorSpi !== ike.initiatorSpi);
        const c = x?.children.find((c) => c.state === "INSTALLED" && c.spiIn !== child.spiIn);
        return now.length === 1 && c !== undefined ? x : undefined;
      }, { timeoutMs: 20_000, intervalMs: 500, what: "strongSwan's rekeys done" });
      const afterRekey = await waitFor(async () => {
        const o = parseShowIkeSa(await branch.show("ike sa"));
        return o.length === 1 && o[0]!.initiatorSpi === rekeyed.initiatorSpi ? o : undefined;
      }, { timeoutMs: 10_000, intervalMs: 500, what: "the rekeyed IKE SA in show ike sa" });
      assert.equal(afterRekey[0]!.responderSpi, rekeyed.responderSpi);
      const p1 = await ping(lab, a.host, b.hostAddress, { count: 3 });
      assert.ok(p1.received >= 2, `ping after rekeys ${p1.received}/${p1.sent}`);
      assert.equal(await dials(), 1, "rekeys are not re-dials");

      // strongSwan deletes the only CHILD_SA: the branch makes it again on the same IKE SA
      // (CREATE_CHILD_SA from our side, RFC 7296 §1.3.1), without a re-dial.
      await swan.terminate({ child: "net" });
      const remade = await waitFor(async () => {
        const now = await swan.listSas();
        const c = now[0]?.children.find((c) => c.state === "INSTALLED");
        return now.length === 1 && c !== undefined ? now[0] : undefined;
      }, { timeoutMs: 20_000, intervalMs: 500, what: "the CHILD_SA made again" });
      assert.equal(remade.initiatorSpi, rekeyed.initiatorSpi, "the same IKE SA");
      assert.match(await branch.log(), /CHILD_SA made again/);
      const p3 = await ping(lab, a.host, b.hostAddress, { count: 3 });
      assert.ok(p3.received >= 2, `ping after the child was made again ${p3.received}/${p3.sent}`);
      assert.equal(await dials(), 1, "no re-dial");

      // strongSwan deletes the IKE SA: the branch dials again at once.
      const tDel = Date.now();
      await swan.terminate({ ike: "branch" });
      await waitFor(async () => (await dials()) === 2 || undefined, {
        timeoutMs: 10_000,
        what: "a new dial after the peer's Delete",
      });
      await peerUp(branch, "hq", "up again after the peer's Delete", 30_000);
      const p2 = await ping(lab, a.host, b.hostAddress, { count: 3 });
      assert.ok(p2.received >= 2, `ping after re-dial ${p2.received}/${p2.sent}`);
      console.log(`IKEv2 tunnel back ${Date.now() - tDel} ms after strongSwan's Delete`);

      // kill -9 and restart strongSwan: the liveness check goes unanswered for dpd_timeout
      // (6 s, RFC 7296 §2.4), the peer is dead, the branch dials again.
      await swan.kill();
      const killed = Date.now();
      await StrongswanPeer.start(lab, { name: "hub2", ns: b.gw, config: swanConfig });
      await branch.waitForLog(/dead peer/, { timeoutMs: 20_000 });
      const dead = Date.now() - killed;
      // dpd_delay (2 s) until the check, dpd_timeout (6 s) of retransmissions, slack.
      assert.ok(dead < 15_000, `dead peer noticed ${dead} ms after kill -9`);
      await waitFor(async () => {
        const r = await ping(lab, a.host, b.hostAddress, { count: 1 });
        return r.received === 1 ? true : undefined;
      }, { timeoutMs: 30_000, intervalMs: 500, what: "tunnel back after kill -9" });
      const took = Date.now() - killed;
      assert.ok(took < 30_000, `back after ${took} ms`);
      console.log(
        `IKEv2 dead peer noticed ${(dead / 1000).toFixed(1)} s and tunnel back ` +
          `${(took / 1000).toFixed(1)} s after kill -9 of strongSwan`,
      );
      const again = parseShowIkeSa(await branch.show("ike sa"));
      assert.equal(again.length, 1);
      assert.notEqual(again[0]!.initiatorSpi, ike.initiatorSpi, "a new IKE SA");
    }),
});

Deno.test({
  name: "IKEv2 branchgate ↔ branchgate: the branch dials, ping and iperf3 both ways, kill -9",
  ignore: Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withLab(async (lab) => {
      const s = await twoSites(lab);
      const t0 = Date.now();
      const pair = await bringUpPair(lab, s, {
        psk: PSK,
        peer: { ikeVersion: 2, dpdDelay: 2, dpdTimeout: 6 },
      });
      const { a, b } = pair;
      console.log(`IKEv2 branchgate ↔ branchgate up after ${Date.now() - t0} ms`);
      const ia = parseShowIkeSa(await a.show("ike sa"));
      const ib = parseShowIkeSa(await b.show("ike sa"));
      assert.equal(ia.length, 1, JSON.stringify(ia));
      assert.equal(ib.length, 1, JSON.stringify(ib));
      assert.equal(ia[0]!.initiatorSpi, ib[0]!.initiatorSpi);
      assert.equal(ia[0]!.responderSpi, ib[0]!.responderSpi);
      const ea = parseShowEspSa(await a.show("esp sa"));
      const eb = parseShowEspSa(await b.show("esp sa"));
      for (const x of ea) {
        const want = x.direction === "in" ? "out" : "in";
        assert.ok(eb.some((y) => y.direction === want && y.spi === x.spi), `SPI ${x.spi}`);
      }
      const rates = await traffic(lab, s, 5e6);

      // `clear ike sa hub` on the branch: Delete sent, the SAs go, and it dials again.
      await a.shell(["clear ike sa hub"]);
      await waitFor(async () => {
        const now = parseShowIkeSa(await a.show("ike sa"));
        return now.length === 1 && now[0]!.state === "ESTABLISHED" &&
            now[0]!.initiatorSpi !== ia[0]!.initiatorSpi
          ? true
          : undefined;
      }, { timeoutMs: 30_000, intervalMs: 300, what: "a new IKE SA after clear ike sa" });
      await waitFor(async () => {
        const r = await ping(lab, s.a.host, s.b.hostAddress, { count: 1 });
        return r.received === 1 ? true : undefined;
      }, { timeoutMs: 30_000, intervalMs: 300, what: "ping after clear ike sa" });
      assert.equal(parseShowIkeSa(await b.show("ike sa")).length, 1, "the hub dropped the old SA");

      // kill -9 of the branchgate hub and a restart: dead after dpd_delay + dpd_timeout (2 + 6
      // s, RFC 7296 §2.4), then the branch dials the new hub.
      await b.kill();
      const killed = Date.now();
      const b2 = await pair.restartB("pair-b2");
      await a.waitForLog(/dead peer/, { timeoutMs: 20_000 });
      const dead = Date.now() - killed;
      assert.ok(dead < 15_000, `dead peer noticed ${dead} ms after kill -9`);
      await waitFor(async () => {
        const r = await ping(lab, s.a.host, s.b.hostAddress, { count: 1 });
        return r.received === 1 ? true : undefined;
      }, { timeoutMs: 30_000, intervalMs: 300, what: "tunnel back after kill -9 of the hub" });
      const back = Date.now() - killed;
      assert.equal(parseShowIkeSa(await b2.show("ike sa")).length, 1);
      console.log(
        `IKEv2 branchgate hub: dead peer noticed ${(dead / 1000).toFixed(1)} s and tunnel back ` +
          `${(back / 1000).toFixed(1)} s after kill -9`,
      );
      console.log(
        `iperf3 IKEv2 branchgate ↔ branchgate: ${
          rates.map((r) => (r / 1e6).toFixed(0)).join(" / ")
        } Mbit/s`,
      );
    }),
});

Deno.test({
  name: "IKEv2 initiator: a trap peer dials on the first packet for remote_ts",
  ignore: Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withLab(async (lab) => {
      const s = await twoSites(lab);
      const pair = await bringUpPair(lab, s, {
        psk: PSK,
        startAction: "trap",
        peer: { ikeVersion: 2 },
      });
      assert.deepEqual(parseShowIkeSa(await pair.a.show("ike sa")), [], "nothing dialled yet");
      // The first echo requests make the branch dial; the later ones cross the tunnel.
      const r = await ping(lab, s.a.host, s.b.hostAddress, { count: 15, interval: 0.2 });
      assert.ok(r.received >= 5, `ping through the trapped IKEv2 tunnel: ${r.received}/${r.sent}`);
      await peerUp(pair.a, "hub", "IKEv2 trap peer up", 10_000);
      console.log(`IKEv2 trap: ${r.received}/${r.sent} echo replies`);
    }),
});
