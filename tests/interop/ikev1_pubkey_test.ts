/**
 * Root: IKEv1 Main Mode with certificates between a strongSwan 5.9.8 initiator and the
 * branchgate responder, certificates made by strongSwan's `pki`: ECDSA and RSA signatures
 * (RFC 2409 §5.1, RFC 4754), remote %any with remote_id "*.example.net", ping across each
 * tunnel; a foreign-CA, an expired and a revoked (CRL) certificate refused with one line
 * naming the certificate and the reason.
 */

import assert from "node:assert/strict";
import { assertAgreement, initiatorIke } from "./lib/agree.ts";
import { BranchgateResponder } from "./lib/branchgate_responder.ts";
import type { Ikev1Lab } from "./lib/ikev1_lab.ts";
import type { Lab } from "./lib/netns.ts";
import { pingBothWays, tearDown } from "./lib/scenarios/main_mode.ts";
import { StrongswanPeer } from "./lib/strongswan.ts";
import { labSuite, type Scenario } from "./lib/suite.ts";
import { type PkiCert, pkiCrl, pkiIssue, pkiRoot } from "./lib/swan_pki.ts";
import type { SwanConnection } from "./lib/swanctl_conf.ts";
import { twoSites } from "./lib/topology.ts";

const LAN_A = "198.51.100.0/24";
const LAN_B = "203.0.113.0/24";
const DAY = 86_400_000;

/** Certificates for both sides. */
async function makeCerts(dir: string) {
  const now = Date.now();
  const rootEc = await pkiRoot(
    dir,
    "root-ec",
    "ecdsa",
    "C=CH, O=branchgate lab, CN=Lab Root ECDSA",
  );
  const rootRsa = await pkiRoot(dir, "root-rsa", "rsa", "C=CH, O=branchgate lab, CN=Lab Root RSA");
  const foreign = await pkiRoot(dir, "foreign", "ecdsa", "C=CH, O=elsewhere, CN=Foreign Root");
  const ee = (name: string, issuer: PkiCert, type: "ecdsa" | "rsa", extra = {}) =>
    pkiIssue(dir, name, issuer, {
      type,
      dn: `C=CH, O=branchgate lab, CN=${name}.example.net`,
      san: `${name}.example.net`,
      ...extra,
    });
  const gwEc = await pkiIssue(dir, "gw-ec", rootEc, {
    type: "ecdsa",
    dn: "C=CH, O=branchgate lab, CN=gw.example.net",
    san: "gw.example.net",
  });
  const gwRsa = await pkiIssue(dir, "gw-rsa", rootRsa, {
    type: "rsa",
    dn: "C=CH, O=branchgate lab, CN=gw.example.net",
    san: "gw.example.net",
  });
  const certs = {
    rootEc,
    rootRsa,
    gwEc,
    gwRsa,
    ec: await ee("branch-ec", rootEc, "ecdsa"),
    rsa: await ee("branch-rsa", rootRsa, "rsa"),
    foreign: await ee("branch-foreign", foreign, "ecdsa"),
    expired: await ee("branch-expired", rootEc, "ecdsa", {
      notBefore: new Date(now - 10 * DAY),
      notAfter: new Date(now - DAY),
    }),
    revoked: await ee("branch-revoked", rootEc, "ecdsa"),
  };
  const crl = await pkiCrl(dir, "root-ec", rootEc, [certs.revoked.cert]);
  return { ...certs, crl };
}

type Certs = Awaited<ReturnType<typeof makeCerts>>;
const INITIATORS = ["ec", "rsa", "foreign", "expired", "revoked"] as const;

function conn(name: (typeof INITIATORS)[number]): SwanConnection {
  return {
    name,
    version: 1,
    localAddrs: ["192.0.2.2"],
    remoteAddrs: ["192.0.2.1"],
    auth: "pubkey",
    certs: [`branch-${name}.crt`],
    sendCert: "always",
    localId: `branch-${name}.example.net`,
    remoteId: "gw.example.net",
    proposals: ["aes128-sha256-modp2048"],
    encap: true,
    rekeyTime: 0,
    dpdDelay: 0,
    children: [{ name, localTs: [LAN_B], remoteTs: [LAN_A], espProposals: ["aes128gcm16"] }],
  };
}

async function start(lab: Lab): Promise<Ikev1Lab> {
  const sites = await twoSites(lab);
  const c: Certs = await makeCerts(lab.dir);
  const common = {
    remote: "%any",
    auth: "pubkey" as const,
    localId: "gw.example.net",
    remoteId: "*.example.net",
    ikeProposals: ["aes128-sha256-modp2048"],
    espProposals: ["aes128gcm16"],
    localTs: [LAN_A],
    remoteTs: [LAN_B],
  };
  const responder = await BranchgateResponder.start(lab, {
    ns: sites.a.gw,
    address: sites.a.outerAddress,
    peers: [
      {
        name: "branches-ec",
        cert: c.gwEc.cert,
        key: c.gwEc.key,
        ca: [c.rootEc.cert],
        crl: [c.crl],
        ...common,
      },
      {
        name: "branches-rsa",
        cert: c.gwRsa.cert,
        key: c.gwRsa.key,
        ca: [c.rootRsa.cert],
        ...common,
      },
    ],
  });
  const files: Record<string, string> = {
    "x509ca/root-ec.crt": c.rootEc.cert,
    "x509ca/root-rsa.crt": c.rootRsa.cert,
  };
  for (const n of INITIATORS) {
    files[`x509/branch-${n}.crt`] = c[n].cert;
    files[`private/branch-${n}.key`] = c[n].key;
  }
  const initiator = await StrongswanPeer.start(lab, {
    name: "init",
    ns: sites.b.gw,
    config: { connections: INITIATORS.map(conn), secrets: [] },
    charon: { logLevels: { ike: 2, cfg: 2 } },
    files,
  });
  return { lab, sites, responder, initiator };
}

function established(kind: "ec" | "rsa"): Scenario {
  return {
    name: `Main Mode with ${kind === "ec" ? "ECDSA" : "RSA"} certificates; ping; Delete`,
    fn: async (L) => {
      await L.initiator.initiate(kind);
      const a = await assertAgreement(L.initiator, L.responder, {
        connection: kind,
        peer: `branches-${kind}`,
        ike: "aes128-sha256-modp2048",
        children: { [kind]: { transform: "aes128gcm16" } },
      });
      assert.equal(a.ike.remoteId, "gw.example.net");
      if (kind === "ec") {
        // `show pki` through the shell: loaded certificates with days to expiry, no key.
        const pki = await (L.responder as BranchgateResponder).daemon.show("pki");
        assert.match(
          pki,
          /branches-ec +local +C=CH, O=branchgate lab, CN=gw.example.net .* (29|30)\b/,
        );
        assert.match(pki, /branches-rsa +anchor +C=CH, O=branchgate lab, CN=Lab Root RSA/);
        assert.ok(!/PRIVATE KEY/.test(pki));
      }
      await pingBothWays(L);
      const ch = a.children.get(kind)!;
      await tearDown(L, kind, a.ike.initiatorSpi, [ch.spiIn, ch.spiOut]);
    },
  };
}

function refused(kind: "foreign" | "expired" | "revoked", reason: RegExp): Scenario {
  return {
    name: `${kind} certificate refused with one line naming it`,
    fn: async (L) => {
      // The AUTHENTICATION_FAILED notify reaches strongSwan at once; no need to wait long.
      const r = await L.initiator.tryInitiate(kind, 4);
      assert.notEqual(r.code, 0);
      assert.equal(await initiatorIke(L.initiator, kind), undefined);
      const line = await L.responder.waitForLog(
        new RegExp(
          `certificate \\\\?"C=CH, O=branchgate lab, CN=branch-${kind}\\.example\\.net\\\\?" ` +
            `\\(serial [0-9A-F]+\\) refused: ${reason.source}`,
        ),
        { timeoutMs: 10_000 },
      );
      assert.ok(line.length < 500, line);
      assert.ok(!(await L.responder.ikeSas()).some((s) => s.state === "ESTABLISHED"));
      await L.initiator.swanctl(["--terminate", "--ike", kind, "--timeout", "5"]);
    },
  };
}

labSuite(
  "IKEv1 Main Mode with certificates (strongSwan pki)",
  [
    established("ec"),
    established("rsa"),
    refused("foreign", /no path to a trusted CA/),
    refused("expired", /expired on/),
    refused("revoked", /revoked on/),
  ],
  (lab) => start(lab),
  "branchgate",
);
