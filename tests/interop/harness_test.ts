/**
 * Root: the interop harness itself, strongSwan against strongSwan. Two charons (Debian 5.9.8,
 * kernel-libipsec before kernel-netlink, each with its own /run) in two gateway namespaces
 * negotiate IKEv1 Main Mode with a PSK and one CHILD_SA between the LANs (ESP in UDP); hosts
 * behind the gateways ping each other through ipsec0, and both `swanctl --list-sas` agree on
 * SPIs and algorithms. Proves the lab before branchgate is put into it.
 */

import assert from "node:assert/strict";
import { withLab } from "./lib/netns.ts";
import { PAIR_CHILD, startSwanPair } from "./lib/swan_pair.ts";
import { twoSites } from "./lib/topology.ts";
import { AGGRESSIVE } from "./lib/scenarios/aggressive.ts";
import { FAILURES } from "./lib/scenarios/failures.ts";
import { MAIN_MODE } from "./lib/scenarios/main_mode.ts";
import { ikev1Suite } from "./lib/suite.ts";

const ROOT = Deno.uid() === 0;

Deno.test({
  name: "harness: strongSwan↔strongSwan IKEv1 Main Mode PSK, ping between the LANs",
  ignore: !ROOT,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withLab(async (lab) => {
      const sites = await twoSites(lab);
      const { a, b } = await startSwanPair(lab, sites, { psk: "harness-only-psk-1" });

      const out = await a.initiate(PAIR_CHILD);
      assert.match(out, /initiating Main Mode IKE_SA/);
      assert.match(out, /CHILD_SA lan\{\d+\} established/);

      // Each charon's TUN device is up with MTU 1400 in its own namespace only.
      for (const gw of [sites.a.gw, sites.b.gw]) {
        const link = await lab.mustExec(gw, ["ip", "-o", "link", "show", "ipsec0"]);
        assert.match(link, /mtu 1400/);
      }

      const [ikeA] = await a.listSas();
      const [ikeB] = await b.listSas();
      assert.ok(ikeA && ikeB, "one IKE SA on each side");
      assert.equal(ikeA.version, 1);
      assert.equal(ikeA.state, "ESTABLISHED");
      assert.equal(ikeB.state, "ESTABLISHED");
      assert.equal(ikeA.initiatorSpi, ikeB.initiatorSpi);
      assert.equal(ikeA.responderSpi, ikeB.responderSpi);
      assert.deepEqual(
        [ikeA.encrAlg, ikeA.encrKeysize, ikeA.integAlg, ikeA.dhGroup],
        ["AES_CBC", 256, "HMAC_SHA2_256_128", "MODP_2048"],
      );
      assert.deepEqual(
        [ikeB.encrAlg, ikeB.encrKeysize, ikeB.integAlg, ikeB.dhGroup],
        [ikeA.encrAlg, ikeA.encrKeysize, ikeA.integAlg, ikeA.dhGroup],
      );
      // NAT-T float with encap = yes: IKE and ESP on 4500.
      assert.equal(ikeA.localPort, 4500);

      const [childA] = ikeA.children;
      const [childB] = ikeB.children;
      assert.ok(childA && childB, "one CHILD_SA on each side");
      assert.equal(childA.spiIn, childB.spiOut);
      assert.equal(childA.spiOut, childB.spiIn);
      assert.equal(childA.encap, true);
      assert.equal(childA.encrAlg, "AES_GCM_16");
      assert.equal(childB.encrAlg, "AES_GCM_16");
      assert.deepEqual(childA.localTs, [sites.a.lan]);
      assert.deepEqual(childA.remoteTs, [sites.b.lan]);
      assert.deepEqual(childB.localTs, [sites.b.lan]);

      // Host to host across the tunnel, both ways, small and near-MTU packets.
      const ping = await lab.mustExec(sites.a.host, [
        "ping",
        "-c",
        "4",
        "-i",
        "0.2",
        "-W",
        "2",
        sites.b.hostAddress,
      ]);
      assert.match(ping, / 4 received/);
      const back = await lab.mustExec(sites.b.host, [
        "ping",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "2",
        "-s",
        "1300",
        sites.a.hostAddress,
      ]);
      assert.match(back, / 3 received/);

      // The ESP counters moved on both sides, in both directions.
      const [after] = (await a.listSas()).flatMap((s) => s.children);
      assert.ok(after);
      assert.ok(after.packetsOut >= 7 && after.packetsIn >= 7, JSON.stringify(after));
    }),
});

// The IKEv1 suite's scenarios are right: they pass with strongSwan as the responder too, so a
// failure against branchgate is branchgate's. (Rekey and traffic scenarios: run their files
// with BG_INTEROP_RESPONDER=strongswan.)
ikev1Suite(
  "harness: IKEv1 suite scenarios against the strongSwan reference responder",
  [...MAIN_MODE, ...AGGRESSIVE, ...FAILURES],
  "strongswan",
);
