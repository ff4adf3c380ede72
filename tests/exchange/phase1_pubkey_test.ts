/**
 * IKEv1 Main Mode and Aggressive Mode with certificates (RFC 2409 §5.1, RFC 4754, RFC 4945)
 * against the scripted initiator: ECDSA through an intermediate the initiator sends, RSA,
 * Aggressive Mode; refused: wrong CA, expired, not yet valid, revoked by CRL, an ID the
 * certificate does not name, an ID outside remote_id, a tampered signature; each refusal is one
 * line naming the certificate and the reason. Certificates come from the openssl CLI, relative
 * to the injected test clock.
 */

import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import * as v from "valibot";
import { ConfigSchema } from "../../src/config/schema.ts";
import { MemoryCredentials } from "../../src/ike/auth/credentials.ts";
import { PubkeyAuthenticator } from "../../src/ike/auth/pubkey.ts";
import type { IkePolicy } from "../../src/ike/actions.ts";
import { createIkeV1Responder } from "../../src/ike/responder.ts";
import { loadCertificates, loadPeerCredentials } from "../../src/pki/store.ts";
import { DAY, issue, makeCa, NOW, revokeAndCrl } from "../unit/pki/fixture.ts";
import {
  BRANCH,
  events,
  GW,
  hasEvent,
  mainMode,
  oneSend,
  sends,
  type Setup,
} from "./initiator/p1_harness.ts";
import { Phase1Initiator } from "./initiator/phase1.ts";

const base = await Deno.makeTempDir({ prefix: "bg-x-pki-" });
const root = await makeCa(base, "root", undefined, {
  alg: "rsa2048",
  notBefore: new Date(NOW.getTime() - 100 * DAY),
});
const inter = await makeCa(base, "branch-ca", root, { alg: "p256" });
const foreign = await makeCa(base, "foreign", undefined);
const gwEc = await issue(base, "gw-ec", inter, {
  subject: "/O=hq/CN=gw.example.net",
  sans: "DNS:gw.example.net",
});
const gwRsa = await issue(base, "gw-rsa", root, {
  subject: "/O=hq/CN=gw.example.net",
  alg: "rsa2048",
  sans: "DNS:gw.example.net",
});
const crl = await revokeAndCrl(base, inter, [], "branch-ca-empty");

const der = (p: string) => loadCertificates(p)[0]!.der;
const branch = (name: string, ca = inter, o: Record<string, unknown> = {}) =>
  issue(base, name, ca, {
    subject: `/O=branches/CN=${name}.example.net`,
    sans: `DNS:${name}.example.net`,
    ...o,
  });

function policy(
  gw: { cert: string; key: string },
  over: Record<string, unknown> = {},
  crls: string[] = [],
): IkePolicy {
  const config = v.parse(ConfigSchema, {
    peer: [{
      name: "branches",
      remote: "%any",
      auth: "pubkey",
      cert: gw.cert,
      key: gw.key,
      ca: [root.cert],
      ...(crls.length > 0 ? { crl: crls } : {}),
      remote_id: "*.example.net",
      ike_proposals: ["aes128-sha256-modp2048"],
      esp_proposals: ["aes128gcm16"],
      local_ts: ["10.1.0.0/16"],
      remote_ts: ["10.2.0.0/16"],
      ...over,
    }],
  });
  const p = config.peer[0]!;
  const auth = new PubkeyAuthenticator(loadPeerCredentials(p), p.remote_id, () => NOW);
  return { config, credentials: new MemoryCredentials(new Map(), new Map([[p.name, auth]])) };
}

function initiator(
  c: { cert: string; key: string },
  method: 3 | 9,
  extra: string[] = [],
  id?: string,
) {
  const name = id ?? loadCertificates(c.cert)[0]!.altNames[0]!.value as string;
  return new Phase1Initiator({
    psk: "",
    self: BRANCH,
    responder: GW,
    id: { type: 2, data: new TextEncoder().encode(name) },
    sig: {
      key: createPrivateKey(Deno.readTextFileSync(c.key)),
      certs: [der(c.cert), ...extra.map(der)],
      method,
    },
  });
}

function setupWith(p: IkePolicy, i: Phase1Initiator): Setup {
  return { r: createIkeV1Responder(p), i, now: NOW.getTime() };
}

/** Runs messages 1-5 and returns the responder's actions for message 5. */
function upToMm5(s: Setup, corrupt = false) {
  s.i.readPlain(oneSend(s.r.handle(s.i.mm1(), GW, BRANCH, s.now)));
  const m4 = s.i.readMm4(oneSend(s.r.handle(s.i.mm3(), GW, BRANCH, s.now)));
  return { m4, act: s.r.handle(s.i.mm5({ corruptHash: corrupt }), GW, BRANCH, s.now) };
}

function refusedWith(act: ReturnType<typeof upToMm5>["act"], re: RegExp) {
  const lines = events(act).map((e) => e.message);
  assert.ok(hasEvent(act, re), `${re} in ${JSON.stringify(lines)}`);
  assert.ok(!hasEvent(act, /IKE SA established/));
  // One line: the AUTHENTICATION_FAILED event carries the certificate and the reason.
  assert.equal(lines.filter((l) => l.startsWith("AUTHENTICATION_FAILED")).length, 1);
}

Deno.test("Main Mode, ECDSA: configured intermediate, our chain sent, CR names our anchor", async () => {
  const b = await branch("branch1");
  const s = setupWith(policy(gwEc, { ca: [root.cert, inter.cert] }), initiator(b, 9));
  const { m4, act } = upToMm5(s);
  const cr = m4.filter((p) => p.kind === "cr");
  assert.equal(cr.length, 1);
  assert.deepEqual(
    cr[0]!.kind === "cr" && cr[0]!.data,
    loadCertificates(root.cert)[0]!.subject.der,
  );
  assert.ok(hasEvent(act, /IKE SA established/), JSON.stringify(events(act).map((e) => e.message)));
  // Message 6: our ID (subject DN by default), our certificate and the intermediate, SIG_R.
  const m6 = s.i.readMm6(sends(act)[0]!.datagram);
  const id = m6.find((p) => p.kind === "id");
  assert.equal(id?.kind === "id" && id.idType, 9);
  assert.equal(m6.filter((p) => p.kind === "cert").length, 2);
});

Deno.test("Main Mode, RSA signatures (method 3), local_id as an FQDN", async () => {
  const b = await branch("rsabranch", root, { alg: "rsa2048" });
  const s = setupWith(policy(gwRsa, { local_id: "gw.example.net" }), initiator(b, 3));
  const act = mainMode(s);
  assert.ok(hasEvent(act, /IKE SA established/));
  const id = s.i.last.find((p) => p.kind === "id");
  assert.equal(id?.kind === "id" && new TextDecoder().decode(id.data), "gw.example.net");
});

Deno.test("Aggressive Mode, ECDSA", async () => {
  const b = await branch("amb");
  const s = setupWith(
    policy(gwEc, { mode: "aggressive" }),
    initiator(b, 9, [`${base}/branch-ca.crt`]),
  );
  s.i.readAm2(oneSend(s.r.handle(s.i.am1(), GW, BRANCH, s.now)));
  const act = s.r.handle(s.i.am3(), GW, BRANCH, s.now);
  assert.ok(hasEvent(act, /IKE SA established/), JSON.stringify(events(act).map((e) => e.message)));
});

Deno.test("refused: wrong CA, expired, not yet valid, revoked, ID mismatch, tampered", async () => {
  const configured = [`${base}/branch-ca.crt`];
  const cases: [string, Setup, RegExp, boolean?][] = [];
  const fb = await branch("foreignb", foreign);
  cases.push([
    "foreign",
    setupWith(policy(gwEc), initiator(fb, 9)),
    /certificate "O=branches, CN=foreignb.example.net" \(serial [0-9A-F]+\) refused: no path to a trusted CA/,
  ]);
  const old = await branch("oldb", inter, {
    notBefore: new Date(NOW.getTime() - 30 * DAY),
    notAfter: new Date(NOW.getTime() - DAY),
  });
  cases.push([
    "expired",
    setupWith(policy(gwEc), initiator(old, 9, configured)),
    /CN=oldb.example.net" \(serial [0-9A-F]+\) refused: expired on/,
  ]);
  const early = await branch("earlyb", inter, { notBefore: new Date(NOW.getTime() + DAY) });
  cases.push([
    "early",
    setupWith(policy(gwEc), initiator(early, 9, configured)),
    /CN=earlyb.example.net" .* refused: not valid before/,
  ]);
  const gone = await branch("goneb");
  const revoked = await revokeAndCrl(base, inter, [gone.cert], "branch-ca");
  cases.push([
    "revoked",
    setupWith(policy(gwEc, {}, [revoked]), initiator(gone, 9, configured)),
    /CN=goneb.example.net" .* refused: revoked on/,
  ]);
  const ok = await branch("idb");
  cases.push([
    "ID not in cert",
    setupWith(policy(gwEc), initiator(ok, 9, configured, "other.example.net")),
    /CN=idb.example.net" .* refused: it does not name the ID other.example.net/,
  ]);
  const com = await issue(base, "comb", inter, {
    subject: "/O=branches/CN=comb.example.com",
    sans: "DNS:comb.example.com",
  });
  cases.push([
    "remote_id",
    setupWith(policy(gwEc), initiator(com, 9, configured)),
    /CN=comb.example.com" .* refused: ID comb.example.com does not match remote_id \*\.example\.net/,
  ]);
  cases.push([
    "tampered",
    setupWith(policy(gwEc), initiator(ok, 9, configured)),
    /signature by certificate "O=branches, CN=idb.example.net" .* does not verify/,
    true,
  ]);
  for (const [name, s, re, corrupt] of cases) {
    const { act } = upToMm5(s, corrupt === true);
    refusedWith(act, re);
    assert.equal(sends(act).length, 1, `${name}: one AUTHENTICATION_FAILED notify`);
  }
  // The empty CRL of the same CA does not refuse a good certificate.
  const fine = setupWith(policy(gwEc, {}, [crl]), initiator(ok, 9, configured));
  assert.ok(hasEvent(upToMm5(fine).act, /IKE SA established/));
});

Deno.test("an ECDSA gateway does not accept an RSA-signature proposal (the methods must agree)", async () => {
  const b = await branch("rsa2", root, { alg: "rsa2048" });
  const s = setupWith(policy(gwEc), initiator(b, 3));
  const act = s.r.handle(s.i.mm1(), GW, BRANCH, s.now);
  assert.ok(hasEvent(act, /NO_PROPOSAL_CHOSEN/));
});

globalThis.addEventListener("unload", () => Deno.removeSync(base, { recursive: true }));
