/**
 * Root: the IKEv2 responder's smoke test against Debian's strongSwan 5.9.8 as initiator:
 * IKE_SA_INIT with AES-GCM/PRF-SHA256/ECP-256, IKE_AUTH with PSK chosen by the initiator's
 * FQDN identity on a `%any` peer, the first CHILD_SA (aes128gcm16); both sides agree on SPIs
 * and algorithms (`swanctl --list-sas` against `show ike sa`/`show esp sa`), ping crosses the
 * tunnel both ways, a CHILD_SA rekey with PFS (MODP-3072) and an IKE SA rekey (children moved)
 * keep it up, and the initiator's Delete removes everything on our side.
 */

import assert from "node:assert/strict";
import { waitEspGone, waitIkeGone } from "./lib/agree.ts";
import { BranchgateResponder } from "./lib/branchgate_responder.ts";
import { withLab } from "./lib/netns.ts";
import { StrongswanPeer } from "./lib/strongswan.ts";
import { twoSites } from "./lib/topology.ts";
import { ping } from "./lib/traffic.ts";
import { waitFor } from "./lib/wait.ts";

const LAN_A = "198.51.100.0/24";
const LAN_B = "203.0.113.0/24";
const PSK = "interop-ikev2-smoke-psk-01";
const BRANCH = "branch.example.net";

Deno.test({
  name: "IKEv2 responder smoke: strongSwan initiates (PSK by FQDN on %any), ping both ways",
  ignore: Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withLab(async (lab) => {
      const sites = await twoSites(lab);
      const us = sites.a.outerAddress;
      const responder = await BranchgateResponder.start(lab, {
        ns: sites.a.gw,
        address: us,
        peers: [{
          name: "hq",
          remote: "%any",
          ikeVersion: 2,
          psk: PSK,
          remoteId: BRANCH,
          ikeProposals: ["aes128gcm16-prfsha256-ecp256"],
          // PFS in CREATE_CHILD_SA (RFC 7296 §1.3.1); none in IKE_AUTH (§1.2).
          espProposals: ["aes128gcm16-modp3072"],
          localTs: [LAN_A],
          remoteTs: [LAN_B],
        }],
      });
      const initiator = await StrongswanPeer.start(lab, {
        name: "init2",
        ns: sites.b.gw,
        config: {
          connections: [{
            name: "v2",
            version: 2,
            localAddrs: [sites.b.outerAddress],
            remoteAddrs: [us],
            localId: BRANCH,
            remoteId: us,
            proposals: ["aes128gcm16-prfsha256-ecp256"],
            encap: true,
            rekeyTime: 0,
            dpdDelay: 0,
            children: [{
              name: "net",
              localTs: [LAN_B],
              remoteTs: [LAN_A],
              espProposals: ["aes128gcm16-modp3072"],
            }],
          }],
          secrets: [{ name: "hq", ids: [BRANCH, us], secret: PSK }],
        },
        charon: { logLevels: { ike: 2, cfg: 2 } },
      });
      await initiator.initiate("net");
      const ike = (await initiator.listSas()).find((s) => s.name === "v2");
      assert.ok(ike !== undefined && ike.state === "ESTABLISHED", "strongSwan established");
      assert.equal(ike.version, 2);
      const child = ike.children.find((c) => c.state === "INSTALLED");
      assert.ok(child !== undefined, "strongSwan installed the CHILD_SA");
      assert.equal(child.encrAlg, "AES_GCM_16");
      const ours = await waitFor(
        async () => (await responder.ikeSas()).find((s) => s.initiatorSpi === ike.initiatorSpi),
        {
          what: "branchgate's IKE SA",
          timeoutMs: 5000,
        },
      );
      assert.equal(ours.responderSpi, ike.responderSpi);
      assert.equal(ours.peer, "hq");
      assert.equal(ours.state, "ESTABLISHED");
      assert.equal(ours.proposal, "aes128gcm16-prfsha256-ecp256");
      const esp = await responder.espSas();
      assert.ok(esp.some((s) => s.direction === "in" && s.spi === child.spiOut), "our inbound SA");
      assert.ok(esp.some((s) => s.direction === "out" && s.spi === child.spiIn), "our outbound SA");
      assert.ok(esp.every((s) => s.transform === "aes128gcm16"));
      const there = await ping(lab, sites.a.host, sites.b.hostAddress, {
        from: sites.a.hostAddress,
      });
      assert.equal(there.received, 3, there.output);
      const back = await ping(lab, sites.b.host, sites.a.hostAddress, {
        from: sites.b.hostAddress,
        size: 1200,
      });
      assert.equal(back.received, 3, back.output);
      // CHILD_SA rekey (RFC 7296 §1.3.3), then IKE SA rekey (§1.3.2): the child moves along.
      await initiator.rekey({ child: "net" });
      await waitEspGone(responder, [child.spiIn, child.spiOut]);
      await initiator.rekey({ ike: "v2" });
      const rekeyed = await waitFor(async () => {
        const sas = (await initiator.listSas()).filter((s) => s.name === "v2");
        const one = sas.length === 1 ? sas[0] : undefined;
        return one?.state === "ESTABLISHED" && one.initiatorSpi !== ike.initiatorSpi &&
            one.children.some((c) => c.state === "INSTALLED")
          ? one
          : undefined;
      }, { what: "strongSwan's rekeyed IKE SA", timeoutMs: 15_000 });
      await waitIkeGone(responder, ike.initiatorSpi);
      const next = await waitFor(
        async () => (await responder.ikeSas()).find((s) => s.initiatorSpi === rekeyed.initiatorSpi),
        {
          what: "branchgate's rekeyed IKE SA",
          timeoutMs: 5000,
        },
      );
      assert.equal(next.responderSpi, rekeyed.responderSpi);
      const kid = rekeyed.children.find((c) => c.state === "INSTALLED")!;
      assert.equal(kid.dhGroup, "MODP_3072", "the child rekey used PFS");
      const esp2 = await responder.espSas();
      assert.ok(
        esp2.some((s) => s.direction === "in" && s.spi === kid.spiOut),
        "rekeyed inbound SA",
      );
      const again = await ping(lab, sites.a.host, sites.b.hostAddress, {
        from: sites.a.hostAddress,
      });
      assert.equal(again.received, 3, again.output);
      await initiator.terminate({ ike: "v2" });
      await waitEspGone(responder, [kid.spiIn, kid.spiOut]);
      await waitIkeGone(responder, rekeyed.initiatorSpi);
    }),
});
