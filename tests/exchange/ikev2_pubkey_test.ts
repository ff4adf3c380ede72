/**
 * IKEv2 IKE_AUTH with certificates against the engine (RFC 7296 §2.15, §3.6, §3.7, RFC 4754,
 * RFC 7427) with the scripted IKEv2 initiator: CERTREQ naming our anchor and
 * SIGNATURE_HASH_ALGORITHMS in IKE_SA_INIT; an ECDSA initiator through an intermediate it
 * sends (method 14), our CERT and AUTH (14 when hashes were announced, 9 otherwise); RSA
 * method 1; refused: expired, wrong CA, ID not in the certificate, tampered signature.
 * Certificates come from the openssl CLI, relative to the injected test clock.
 */

import assert from "node:assert/strict";
import { createHash, createPrivateKey } from "node:crypto";
import * as v from "valibot";
import { ConfigSchema } from "../../src/config/schema.ts";
import { MemoryCredentials } from "../../src/ike/auth/credentials.ts";
import { PubkeyAuthenticator } from "../../src/ike/auth/pubkey.ts";
import type { IkePolicy } from "../../src/ike/actions.ts";
import { loadCertificates, loadPeerCredentials } from "../../src/pki/store.ts";
import { DAY, issue, makeCa, NOW } from "../unit/pki/fixture.ts";
import { IdType, Nt, Pt } from "./initiator_v2/consts.ts";
import { events, V2Setup } from "./initiator_v2/harness.ts";
import type { V2Sig } from "./initiator_v2/signatures.ts";
import { decodeMessage, hex, parseNotify } from "./initiator_v2/wire.ts";

const base = await Deno.makeTempDir({ prefix: "bg-x2-pki-" });
const root = await makeCa(base, "root", undefined, {
  alg: "rsa2048",
  notBefore: new Date(NOW.getTime() - 100 * DAY),
});
const inter = await makeCa(base, "branch-ca", root, { alg: "p256" });
const foreign = await makeCa(base, "foreign", undefined);
const gw = await issue(base, "gw", root, {
  subject: "/O=hq/CN=gw.example.net",
  sans: "DNS:gw.example.net",
});
const der = (p: string) => loadCertificates(p)[0]!.der;
const text = (s: string) => new TextEncoder().encode(s);

function policy(): IkePolicy {
  const config = v.parse(ConfigSchema, {
    peer: [{
      name: "branches",
      remote: "%any",
      ike_version: 2,
      auth: "pubkey",
      cert: gw.cert,
      key: gw.key,
      ca: [root.cert],
      remote_id: "*.example.net",
      ike_proposals: ["aes128gcm16-prfsha256-ecp256"],
      esp_proposals: ["aes128gcm16"],
      local_ts: ["10.1.0.0/16"],
      remote_ts: ["10.2.0.0/16"],
    }],
  });
  const p = config.peer[0]!;
  const auth = new PubkeyAuthenticator(loadPeerCredentials(p), p.remote_id, () => NOW);
  return { config, credentials: new MemoryCredentials(new Map(), new Map([[p.name, auth]])) };
}

async function branch(name: string, ca = inter, o: Record<string, unknown> = {}) {
  return await issue(base, name, ca, {
    subject: `/O=branches/CN=${name}.example.net`,
    sans: `DNS:${name}.example.net`,
    ...o,
  });
}

function setup(
  c: { cert: string; key: string },
  method: V2Sig["method"],
  o: { extra?: string[]; hashNotify?: boolean; id?: string } = {},
): V2Setup {
  const name = o.id ?? loadCertificates(c.cert)[0]!.altNames[0]!.value as string;
  const s = new V2Setup(policy(), {
    psk: "",
    id: { type: IdType.FQDN, data: text(name) },
    sig: {
      key: createPrivateKey(Deno.readTextFileSync(c.key)),
      certs: [der(c.cert), ...(o.extra ?? []).map(der)],
      method,
      hashNotify: o.hashNotify ?? true,
    },
  });
  s.now = NOW.getTime();
  return s;
}

Deno.test("IKE_SA_INIT offers CERTREQ (SHA-1 of our anchor's key) and the hash notify", () => {
  const s = setup({ cert: gw.cert, key: gw.key }, 14);
  const back = s.exchange([s.i.init()]);
  assert.equal(s.i.readInit(back[0]!).kind, "done");
  const ps = decodeMessage(back[0]!).payloads;
  const cr = ps.find((p) => p.type === Pt.CERTREQ);
  assert.ok(cr !== undefined);
  assert.equal(cr.body[0], 4);
  const spki = loadCertificates(root.cert)[0]!.spki;
  assert.equal(hex(cr.body.subarray(1)), createHash("sha1").update(spki).digest("hex"));
  const hashes = ps.filter((p) => p.type === Pt.N).map((p) => parseNotify(p.body))
    .find((n) => n.type === 16431);
  assert.equal(hex(hashes!.data), "000200030004");
});

Deno.test("ECDSA initiator through an intermediate it sends; our CERT + RFC 7427 AUTH", async () => {
  const b = await branch("v2b1");
  const s = setup(b, 14, { extra: [inter.cert] });
  s.init();
  const r = s.establish();
  assert.ok(s.i.children.length === 1, JSON.stringify(events(s.log).map((e) => e.message)));
  assert.equal(r.first(Pt.AUTH)!.body[0], 14);
  assert.equal(r.first(Pt.IDr)!.body[0], IdType.DER_ASN1_DN);
  assert.deepEqual(r.first(Pt.CERT)!.body.subarray(1), der(gw.cert));
});

Deno.test("no hash notify: we answer with method 9 (our P-256 key); an RSA initiator with method 1", async () => {
  const b = await branch("v2rsa", root, { alg: "rsa2048" });
  const s = setup(b, 1, { hashNotify: false });
  s.init();
  const r = s.establish();
  assert.equal(s.i.children.length, 1, JSON.stringify(events(s.log).map((e) => e.message)));
  assert.equal(r.first(Pt.AUTH)!.body[0], 9);
});

Deno.test("refused: expired, wrong CA, ID not in the certificate, tampered", async () => {
  const cases: [V2Setup, RegExp, boolean?][] = [];
  const old = await branch("v2old", inter, {
    notBefore: new Date(NOW.getTime() - 30 * DAY),
    notAfter: new Date(NOW.getTime() - DAY),
  });
  cases.push([
    setup(old, 9, { extra: [inter.cert] }),
    /CN=v2old.example.net" .* refused: expired on/,
  ]);
  const fb = await branch("v2foreign", foreign);
  cases.push([setup(fb, 14), /CN=v2foreign.example.net" .* refused: no path to a trusted CA/]);
  const ok = await branch("v2id");
  cases.push([
    setup(ok, 14, { extra: [inter.cert], id: "other.example.net" }),
    /CN=v2id.example.net" .* refused: it does not name the ID other.example.net/,
  ]);
  cases.push([
    setup(ok, 14, { extra: [inter.cert] }),
    /certificate "O=branches, CN=v2id.example.net" .*: ecdsa-with-sha256 signature does not verify/,
    true,
  ]);
  for (const [s, re, corrupt] of cases) {
    s.init();
    const r = s.answer(s.i.auth({ corruptSig: corrupt === true }), (d) => s.i.readAuth(d));
    assert.ok(r.notify(Nt.AUTHENTICATION_FAILED) !== undefined);
    const lines = events(s.log).map((e) => e.message);
    assert.ok(lines.some((l) => re.test(l)), `${re} in ${JSON.stringify(lines)}`);
    assert.equal(s.i.children.length, 0);
  }
});

globalThis.addEventListener("unload", () => Deno.removeSync(base, { recursive: true }));
