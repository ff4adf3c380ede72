/**
 * IKE identities against certificates (RFC 4945 §3.1) and `remote_id` patterns: DN with '*'
 * values, FQDN/email with a leading '*.', addresses; an ID the certificate does not name is
 * refused.
 */

import assert from "node:assert/strict";
import { issue } from "./fixture.ts";
import { loadCertificates } from "../../../src/pki/store.ts";
import {
  certHasIdentity,
  describeIdentity,
  identityFromPayload,
  identityFromText,
  identityMatches,
  identityToPayload,
} from "../../../src/pki/identity.ts";

const base = await Deno.makeTempDir({ prefix: "bg-pki-id-" });
const c = await issue(base, "branch7", undefined, {
  subject: "/C=CH/O=Example AG/CN=branch7.example.net",
  sans: "DNS:branch7.example.net, IP:192.0.2.7, email:ops@example.net",
});
const cert = loadCertificates(c.cert)[0]!;

Deno.test("the certificate names its subject DN and its SANs, nothing else", () => {
  const yes = [
    "C=CH, O=Example AG, CN=branch7.example.net",
    "c=ch,o=example ag,cn=BRANCH7.example.net",
    "branch7.example.net",
    "192.0.2.7",
    "ops@example.net",
  ];
  for (const t of yes) assert.ok(certHasIdentity(cert, identityFromText(t)), t);
  const no = [
    "C=CH, O=Example AG, CN=branch8.example.net",
    "branch8.example.net",
    "192.0.2.8",
    "x@example.net",
  ];
  for (const t of no) assert.ok(!certHasIdentity(cert, identityFromText(t)), t);
});

Deno.test("ID payloads round-trip; the DN one is the certificate's subject DER", () => {
  const dn = identityFromPayload(9, cert.subject.der)!;
  assert.equal(describeIdentity(dn), "C=CH, O=Example AG, CN=branch7.example.net");
  assert.ok(certHasIdentity(cert, dn));
  for (const t of ["gw.example.net", "192.0.2.1", "2001:db8::1", "a@b.example", "C=CH, CN=x"]) {
    const p = identityToPayload(identityFromText(t));
    assert.equal(describeIdentity(identityFromPayload(p.type, p.data)!), t);
  }
  assert.equal(identityFromPayload(1, new Uint8Array(3)), undefined);
  assert.equal(identityFromPayload(9, new Uint8Array([0x30, 0x05, 1])), undefined);
});

Deno.test("remote_id patterns: '*.' names, DN with '*', exact addresses", () => {
  const fq = identityFromText("branch7.example.net");
  assert.ok(identityMatches("*.example.net", fq));
  assert.ok(identityMatches("*.EXAMPLE.net", fq));
  assert.ok(!identityMatches("*.example.com", fq));
  assert.ok(!identityMatches("*.example.net", identityFromText("example.net")));
  assert.ok(!identityMatches("*.example.net", identityFromText("evil-example.net")));
  assert.ok(identityMatches("branch7.example.net", fq));
  const dn = identityFromPayload(9, cert.subject.der)!;
  assert.ok(identityMatches("C=CH, O=Example AG, CN=*", dn));
  assert.ok(!identityMatches("C=DE, O=Example AG, CN=*", dn));
  assert.ok(!identityMatches("*.example.net", dn));
  assert.ok(identityMatches("*@example.net", identityFromText("ops@example.net")));
  assert.ok(identityMatches("192.0.2.7", identityFromText("192.0.2.7")));
  assert.ok(!identityMatches("192.0.2.7", identityFromText("192.0.2.8")));
});

globalThis.addEventListener("unload", () => Deno.removeSync(base, { recursive: true }));
