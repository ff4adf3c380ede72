/**
 * Root: branchgate as the IKEv2 initiator with certificates (made by strongSwan's `pki`)
 * towards a strongSwan 5.9.8 responder, one fragmented direction each (RFC 7383):
 * - our RSA-4096 certificate and AUTH make an IKE_AUTH request above 1232 octets, which we
 *   send in fragments; strongSwan verifies it (RFC 7427 signature, our CERT) and answers with
 *   its ECDSA certificate, which we verify against the configured anchor before installing;
 * - strongSwan's RSA-4096 certificate, issued by an RSA-4096 intermediate it sends along,
 *   makes its IKE_AUTH answer larger than its 1280-octet fragment size: it arrives in
 *   fragments, which we reassemble, verify through the intermediate to our anchor and install.
 *   Then we rekey the CHILD_SA (PFS with MODP-2048, esp_lifetime 60 s) and strongSwan, with a
 *   256-octet fragment size, answers that CREATE_CHILD_SA in fragments too: reassembled and
 *   installed, strongSwan's new SPIs are ours in `show esp sa`.
 * Each time `swanctl --list-sas` and `show ike sa` agree and ping works both ways.
 */

import assert from "node:assert/strict";
import { BranchgateDaemon } from "./lib/branchgate.ts";
import { type Lab, withLab } from "./lib/netns.ts";
import { parseShowEspSa, parseShowIkeSa } from "./lib/show_parse.ts";
import { StrongswanPeer } from "./lib/strongswan.ts";
import { type PkiCert, pkiIssue, pkiRoot } from "./lib/swan_pki.ts";
import { twoSites } from "./lib/topology.ts";
import { ping } from "./lib/traffic.ts";
import { waitFor } from "./lib/wait.ts";

/** Which side's IKE_AUTH is the large one. */
type Large = "request" | "response";

/** The hub's certificate (RSA-4096 through an RSA-4096 intermediate for a large answer). */
async function hubCredentials(dir: string, root: PkiCert, large: Large) {
  const dn = "C=CH, O=branchgate lab, CN=hub.example.net";
  if (large === "request") {
    return {
      cert: await pkiIssue(dir, "hub", root, { type: "ecdsa", dn, san: "hub.example.net" }),
    };
  }
  const inter = await pkiIssue(dir, "inter", root, {
    type: "rsa4096",
    dn: "C=CH, O=branchgate lab, CN=Hub CA",
    ca: true,
  });
  const cert = await pkiIssue(dir, "hub", inter, { type: "rsa4096", dn, san: "hub.example.net" });
  return { cert, inter };
}

for (const large of ["request", "response"] as const) {
  Deno.test({
    name: large === "request"
      ? "IKEv2 initiator with certificates: fragmented RSA-4096 IKE_AUTH to strongSwan"
      : "IKEv2 initiator with certificates: strongSwan's RSA-4096 chain in a fragmented answer",
    ignore: Deno.uid() !== 0,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => withLab((lab) => scenario(lab, large)),
  });
}

async function scenario(lab: Lab, large: Large): Promise<void> {
  const { a, b } = await twoSites(lab);
  // With a MODP-2048 KE in the CHILD_SA rekey (PFS), its answer is well above 256 octets.
  const esp = large === "response" ? "aes128gcm16-modp2048" : "aes128gcm16";
  const dir = lab.dir;
  const root = await pkiRoot(dir, "root", "ecdsa", "C=CH, O=branchgate lab, CN=Lab Root");
  const hub = await hubCredentials(dir, root, large);
  const hubCert = hub.cert;
  const branchCert = await pkiIssue(dir, "branch", root, {
    type: large === "request" ? "rsa4096" : "ecdsa",
    dn: "C=CH, O=branchgate lab, CN=branch.example.net",
    san: "branch.example.net",
  });
  const swan = await StrongswanPeer.start(lab, {
    name: "hub",
    ns: b.gw,
    config: {
      connections: [{
        name: "branch",
        version: 2,
        localAddrs: [b.outerAddress],
        remoteAddrs: [a.outerAddress],
        auth: "pubkey",
        certs: ["hub.crt"],
        sendCert: "always",
        localId: "hub.example.net",
        remoteId: "branch.example.net",
        proposals: ["aes128gcm16-prfsha256-ecp256"],
        encap: true,
        fragmentation: "yes",
        children: [{
          name: "net",
          localTs: [b.lan],
          remoteTs: [a.lan],
          espProposals: [esp],
        }],
      }],
      secrets: [],
    },
    // 256 octets (the least charon takes): even our CHILD_SA rekey's answer is split.
    charon: {
      logLevels: { ike: 2, cfg: 2, enc: 1 },
      ...(large === "response" ? { fragmentSize: 256 } : {}),
    },
    files: {
      "x509ca/root.crt": root.cert,
      ...(hub.inter === undefined ? {} : { "x509ca/inter.crt": hub.inter.cert }),
      "x509/hub.crt": hubCert.cert,
      "private/hub.key": hubCert.key,
    },
  });
  const branch = await BranchgateDaemon.start(lab, {
    name: "branch",
    ns: a.gw,
    config: {
      listen: [a.outerAddress],
      logLevel: "debug",
      peers: [{
        name: "hq",
        remote: b.outerAddress,
        ikeVersion: 2,
        startAction: "start",
        auth: "pubkey",
        cert: branchCert.cert,
        key: branchCert.key,
        ca: [root.cert],
        localId: "branch.example.net",
        remoteId: "hub.example.net",
        ikeProposals: ["aes128gcm16-prfsha256-ecp256"],
        espProposals: [esp],
        ...(large === "response" ? { espLifetime: 60, rekeyMargin: 45 } : {}),
        localTs: [a.lan],
        remoteTs: [b.lan],
        encap: true,
      }],
    },
  });
  await waitFor(async () => /^\s*hq\s.*\bup\b/m.test(await branch.show("peers")) || undefined, {
    timeoutMs: 40_000,
    intervalMs: 500,
    what: "IKEv2 tunnel with certificates up",
  });
  const sas = await swan.listSas();
  assert.equal(sas.length, 1, JSON.stringify(sas));
  assert.equal(sas[0]!.state, "ESTABLISHED");
  assert.equal(sas[0]!.remoteId, "branch.example.net");
  assert.equal(sas[0]!.localId, "hub.example.net");
  const ours = parseShowIkeSa(await branch.show("ike sa"));
  assert.equal(ours[0]!.initiatorSpi, sas[0]!.initiatorSpi);
  assert.equal(ours[0]!.responderSpi, sas[0]!.responderSpi);
  if (large === "request") {
    // strongSwan reassembled our IKE_AUTH from fragments (RFC 7383).
    assert.match(await swan.log(), /received fragment #\d+ of \d+, reassembled/);
  } else {
    // strongSwan split its answer (certificate, intermediate, RSA-4096 AUTH); we
    // reassembled and verified it through the intermediate to our anchor.
    const log = await swan.log();
    assert.match(log, /splitting IKE message .* into \d+ fragments/);
    assert.match(log, /sending issuer cert/);
    assert.match(await branch.log(), /fragmented response reassembled/);
  }
  const pingBoth = async () => {
    for (const [from, to] of [[a.host, b.hostAddress], [b.host, a.hostAddress]] as const) {
      const r = await ping(lab, from, to, { count: 5 });
      assert.ok(r.received >= 4, `ping ${to}: ${r.received}/${r.sent}`);
    }
  };
  await pingBoth();
  if (large === "request") return;
  // Our CHILD_SA rekey (soft lifetime 15 s in): strongSwan's answer (SA, Nr, KE, TS) in fragments.
  const count = (text: string, re: RegExp) => text.split("\n").filter((l) => re.test(l)).length;
  const before = count(await branch.log(), /fragmented response reassembled/);
  const old = sas[0]!.children.find((c) => c.name === "net")!;
  const fresh = await swan.waitForSas(
    (all) =>
      all.flatMap((x) => x.children).find((c) =>
        c.name === "net" && c.state === "INSTALLED" && c.spiIn !== old.spiIn
      ),
    { timeoutMs: 60_000, intervalMs: 500, what: "the CHILD_SA rekeyed by branchgate" },
  );
  const log = await swan.log();
  assert.match(log, /parsed CREATE_CHILD_SA request \d+ \[.*N\(REKEY_SA\).*KE/);
  assert.match(log, /CREATE_CHILD_SA response \d+ \[ EF\(2\/\d+\) \]/, "the answer in fragments");
  await waitFor(
    async () => count(await branch.log(), /fragmented response reassembled/) > before || undefined,
    { timeoutMs: 10_000, what: "the CREATE_CHILD_SA answer reassembled" },
  );
  // strongSwan's new CHILD_SA is ours: its inbound SPI our outbound and the reverse.
  const rows = await waitFor(async () => {
    const rows = parseShowEspSa(await branch.show("esp sa"));
    const has = (spi: number, d: "in" | "out") =>
      rows.some((r) => r.spi === spi && r.direction === d);
    return has(fresh.spiIn, "out") && has(fresh.spiOut, "in") ? rows : undefined;
  }, { timeoutMs: 10_000, what: "strongSwan's rekeyed SPIs in show esp sa" });
  assert.ok(rows.length >= 2);
  await pingBoth();
}
