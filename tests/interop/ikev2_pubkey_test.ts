/**
 * Root: IKEv2 with certificates between a strongSwan 5.9.8 initiator and the branchgate
 * responder, certificates made by strongSwan's `pki`: ECDSA through an intermediate CA the
 * initiator sends (RFC 7296 §3.6), an RSA-4096 certificate whose IKE_AUTH strongSwan sends in
 * RFC 7383 fragments, CERTREQ naming our anchor and RFC 7427 signatures; ping across each
 * tunnel; a revoked certificate refused with one line naming it.
 */

import assert from "node:assert/strict";
import { assertAgreement, initiatorIke } from "./lib/agree.ts";
import { BranchgateResponder } from "./lib/branchgate_responder.ts";
import type { Ikev1Lab } from "./lib/ikev1_lab.ts";
import type { Lab } from "./lib/netns.ts";
import { pingBothWays, tearDown } from "./lib/scenarios/main_mode.ts";
import { StrongswanPeer } from "./lib/strongswan.ts";
import { labSuite, type Scenario } from "./lib/suite.ts";
import { pkiCrl, pkiIssue, pkiRoot } from "./lib/swan_pki.ts";
import type { SwanConnection } from "./lib/swanctl_conf.ts";
import { twoSites } from "./lib/topology.ts";

const LAN_A = "198.51.100.0/24";
const LAN_B = "203.0.113.0/24";
const PEER = "branches";

async function makeCerts(dir: string) {
  const rootEc = await pkiRoot(dir, "root-ec", "ecdsa", "C=CH, O=branchgate lab, CN=Lab Root");
  const rootRsa = await pkiRoot(dir, "root-rsa", "rsa", "C=CH, O=branchgate lab, CN=Lab Root RSA");
  const inter = await pkiIssue(dir, "inter", rootEc, {
    type: "ecdsa",
    dn: "C=CH, O=branchgate lab, CN=Branch CA",
    ca: true,
  });
  const ee = (name: string, issuer: typeof rootEc, type: "ecdsa" | "rsa4096") =>
    pkiIssue(dir, name, issuer, {
      type,
      dn: `C=CH, O=branchgate lab, CN=${name}.example.net`,
      san: `${name}.example.net`,
    });
  const gw = await pkiIssue(dir, "gw", rootEc, {
    type: "ecdsa",
    dn: "C=CH, O=branchgate lab, CN=gw.example.net",
    san: "gw.example.net",
  });
  const c = {
    rootEc,
    rootRsa,
    inter,
    gw,
    "v2-ec": await ee("v2-ec", inter, "ecdsa"),
    "v2-rsa": await ee("v2-rsa", rootRsa, "rsa4096"),
    "v2-revoked": await ee("v2-revoked", inter, "ecdsa"),
  };
  return { ...c, crl: await pkiCrl(dir, "inter", inter, [c["v2-revoked"].cert]) };
}

const INITIATORS = ["v2-ec", "v2-rsa", "v2-revoked"] as const;

function conn(name: (typeof INITIATORS)[number]): SwanConnection {
  return {
    name,
    version: 2,
    localAddrs: ["192.0.2.2"],
    remoteAddrs: ["192.0.2.1"],
    auth: "pubkey",
    certs: [`${name}.crt`],
    sendCert: "always",
    localId: `${name}.example.net`,
    remoteId: "gw.example.net",
    proposals: ["aes128gcm16-prfsha256-ecp256"],
    encap: true,
    rekeyTime: 0,
    dpdDelay: 0,
    fragmentation: "yes",
    children: [{ name, localTs: [LAN_B], remoteTs: [LAN_A], espProposals: ["aes128gcm16"] }],
  };
}

async function start(lab: Lab): Promise<Ikev1Lab> {
  const sites = await twoSites(lab);
  const c = await makeCerts(lab.dir);
  const responder = await BranchgateResponder.start(lab, {
    ns: sites.a.gw,
    address: sites.a.outerAddress,
    peers: [{
      name: PEER,
      remote: "%any",
      ikeVersion: 2,
      auth: "pubkey",
      cert: c.gw.cert,
      key: c.gw.key,
      // The intermediate is not configured: the initiator sends it.
      ca: [c.rootEc.cert, c.rootRsa.cert],
      crl: [c.crl],
      localId: "gw.example.net",
      remoteId: "*.example.net",
      ikeProposals: ["aes128gcm16-prfsha256-ecp256"],
      espProposals: ["aes128gcm16"],
      localTs: [LAN_A],
      remoteTs: [LAN_B],
    }],
  });
  const files: Record<string, string> = {
    "x509ca/root-ec.crt": c.rootEc.cert,
    "x509ca/root-rsa.crt": c.rootRsa.cert,
    // strongSwan sends the intermediate of its own chain when it holds it.
    "x509ca/inter.crt": c.inter.cert,
  };
  for (const n of INITIATORS) {
    files[`x509/${n}.crt`] = c[n].cert;
    files[`private/${n}.key`] = c[n].key;
  }
  const initiator = await StrongswanPeer.start(lab, {
    name: "init",
    ns: sites.b.gw,
    config: { connections: INITIATORS.map(conn), secrets: [] },
    // Small fragments: the RSA-4096 IKE_AUTH (certificate + 512-octet AUTH) must be split.
    charon: { logLevels: { ike: 2, cfg: 2, enc: 1 }, fragmentSize: 1000 },
    files,
  });
  return { lab, sites, responder, initiator };
}

function established(kind: "v2-ec" | "v2-rsa", check?: (log: string) => void): Scenario {
  return {
    name: kind === "v2-ec"
      ? "ECDSA through an intermediate the initiator sends; CERTREQ; ping"
      : "RSA-4096: IKE_AUTH in RFC 7383 fragments; ping",
    fn: async (L) => {
      const mark = (await L.initiator.log()).length;
      await L.initiator.initiate(kind);
      const a = await assertAgreement(L.initiator, L.responder, {
        connection: kind,
        peer: PEER,
        version: 2,
        ike: "aes128gcm16-prfsha256-ecp256",
        children: { [kind]: { transform: "aes128gcm16" } },
      });
      assert.equal(a.ike.remoteId, "gw.example.net");
      check?.((await L.initiator.log()).slice(mark));
      await pingBothWays(L);
      const ch = a.children.get(kind)!;
      await tearDown(L, kind, a.ike.initiatorSpi, [ch.spiIn, ch.spiOut]);
    },
  };
}

labSuite(
  "IKEv2 with certificates (strongSwan pki)",
  [
    established("v2-ec", (log) => {
      assert.match(log, /received cert request for "C=CH, O=branchgate lab, CN=Lab Root"/);
      assert.match(log, /sending issuer cert "C=CH, O=branchgate lab, CN=Branch CA"/);
      assert.match(log, /authentication of 'gw.example.net' with ECDSA/);
    }),
    established("v2-rsa", (log) => {
      assert.match(log, /splitting IKE message .* into \d+ fragments/);
      assert.match(log, /authentication of 'v2-rsa.example.net' \(myself\) with RSA_EMSA/);
    }),
    {
      name: "revoked certificate refused with one line naming it",
      fn: async (L) => {
        const r = await L.initiator.tryInitiate("v2-revoked", 4);
        assert.notEqual(r.code, 0);
        assert.equal(await initiatorIke(L.initiator, "v2-revoked"), undefined);
        await L.responder.waitForLog(
          /certificate \\?"C=CH, O=branchgate lab, CN=v2-revoked\.example\.net\\?" \(serial [0-9A-F]+\) refused: revoked on/,
          { timeoutMs: 10_000 },
        );
        await L.initiator.swanctl(["--terminate", "--ike", "v2-revoked", "--timeout", "5"]);
      },
    },
  ],
  (lab) => start(lab),
  "branchgate",
);
