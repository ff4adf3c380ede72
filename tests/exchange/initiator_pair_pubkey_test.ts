/**
 * branchgate ↔ branchgate with certificates, in one process: the IKEv1 initiator (branch) and
 * responder (hub) authenticate with openssl-made certificates of one CA — Main Mode with ECDSA,
 * Aggressive Mode with RSA — and the ESP SAs agree; a branch certificate from another CA is
 * refused by the hub and the branch reports why.
 */

import assert from "node:assert/strict";
import { DAY, issue, makeCa, NOW } from "../unit/pki/fixture.ts";
import { pubkeyPolicy } from "./pair/pki.ts";
import { BRANCH_IP, connections, HUB_IP, lines, matchedPairs, Wire } from "./pair/wire.ts";

const base = await Deno.makeTempDir({ prefix: "bg-pair-pki-" });
const ca = await makeCa(base, "ca", undefined, { notBefore: new Date(NOW.getTime() - 10 * DAY) });
const foreign = await makeCa(base, "foreign", undefined);
const cert = (name: string, issuer = ca, alg: "p256" | "rsa2048" = "p256") =>
  issue(base, name, issuer, {
    subject: `/O=example/CN=${name}.example.net`,
    sans: `DNS:${name}.example.net`,
    alg,
  });

async function pair(mode: "main" | "aggressive", alg: "p256" | "rsa2048", branchIssuer = ca) {
  const branch = pubkeyPolicy(
    ca,
    {
      name: "hq",
      remote: HUB_IP,
      mode,
      start_action: "start",
      local_id: `br-${mode}-${alg}.example.net`,
      remote_id: "hub.example.net",
      ike_proposals: ["aes128-sha256-modp2048"],
      esp_proposals: ["aes128gcm16"],
      local_ts: ["10.2.0.0/16"],
      remote_ts: ["10.1.0.0/16"],
    },
    BRANCH_IP,
    await cert(`br-${mode}-${alg}`, branchIssuer, alg),
  );
  const hub = pubkeyPolicy(
    ca,
    {
      name: "branches",
      remote: "%any",
      mode,
      local_id: "hub.example.net",
      remote_id: "*.example.net",
      ike_proposals: ["aes128-sha256-modp2048"],
      esp_proposals: ["aes128gcm16"],
      local_ts: ["10.1.0.0/16"],
      remote_ts: ["10.2.0.0/16"],
    },
    HUB_IP,
    // The hub's ID is hub.example.net: a certificate naming it.
    await issue(base, `hub-${mode}-${alg}`, ca, {
      subject: "/O=example/CN=hub.example.net",
      sans: "DNS:hub.example.net",
      alg,
    }),
  );
  return new Wire(branch, hub);
}

for (const [mode, alg] of [["main", "p256"], ["aggressive", "rsa2048"]] as const) {
  Deno.test(`${mode} mode with ${alg} certificates, branchgate to branchgate`, async () => {
    const w = await pair(mode, alg);
    w.dial();
    const up = connections(w.branch.log).map((c) => c.event);
    assert.deepEqual(up, ["up"], lines(w.branch.log).join("\n"));
    assert.equal(matchedPairs(w.branch, w.hub), 1);
    assert.equal(w.hub.engine.ikeSas(w.now)[0]?.peer, "branches");
  });
}

Deno.test("a branch certificate from another CA is refused; the branch reports it", async () => {
  const w = await pair("main", "p256", foreign);
  w.dial();
  w.advance(w.now + 120_000);
  const hubLines = lines(w.hub.log).join("\n");
  assert.match(
    hubLines,
    /certificate "O=example, CN=br-main-p256.example.net" .* refused: no path to a trusted CA/,
  );
  const c = connections(w.branch.log);
  assert.ok(c.length >= 1 && c.every((x) => x.event === "failed"), JSON.stringify(c));
  assert.equal(w.branch.sas.size, 0);
});

globalThis.addEventListener("unload", () => Deno.removeSync(base, { recursive: true }));
