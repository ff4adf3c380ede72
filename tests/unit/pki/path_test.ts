/**
 * Path validation against certificates made by the openssl CLI at test time, relative to the
 * injected test clock: RSA and ECDSA, a chain through an intermediate (configured or received),
 * wrong CA, expired, not yet valid, revoked by CRL, tampered signature, CA flags, key usage,
 * RSA under 2048 bits, pathLen.
 */

import assert from "node:assert/strict";
import { type Ca, DAY, issue, makeCa, NOW, revokeAndCrl } from "./fixture.ts";
import { loadCertificates, loadCrls, loadPeerCredentials } from "../../../src/pki/store.ts";
import { refusalLine, type TrustStore, validatePath } from "../../../src/pki/path.ts";
import type { Certificate } from "../../../src/pki/x509.ts";
import { formatName } from "../../../src/pki/name.ts";

const base = await Deno.makeTempDir({ prefix: "bg-pki-" });
const root = await makeCa(base, "root", undefined, {
  alg: "rsa2048",
  notBefore: new Date(NOW.getTime() - 100 * DAY),
});
const inter = await makeCa(base, "inter", root, { alg: "p256", pathLen: 0 });
const other = await makeCa(base, "other", undefined);
const one = (p: string): Certificate => loadCertificates(p)[0]!;
const store = (extra: Partial<TrustStore> = {}): TrustStore => ({
  anchors: [one(root.cert)],
  intermediates: [],
  crls: [],
  ...extra,
});

async function ee(name: string, ca: Ca, o: Record<string, unknown> = {}) {
  return await issue(base, name, ca, { subject: `/C=CH/O=branchgate test/CN=${name}`, ...o });
}

function refused(r: ReturnType<typeof validatePath>, cn: string, reason: RegExp) {
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(formatName(r.cert.subject), new RegExp(`CN=${cn}$`));
  assert.match(r.reason, reason);
  assert.match(
    refusalLine(r),
    new RegExp(`certificate "C=CH, O=branchgate test, CN=${cn}" \\(serial [0-9A-F]+\\) refused: `),
  );
}

Deno.test("ECDSA end entity through a received intermediate to an RSA root", async () => {
  const c = await ee("gw1", inter);
  const r = validatePath(one(c.cert), [one(inter.cert)], store(), NOW);
  assert.ok(r.ok, r.ok ? "" : r.reason);
  assert.deepEqual(r.path.map((x) => x.subject.rdns.at(-1)!.value), ["gw1", "inter", "root"]);
  // The same intermediate configured instead of received.
  assert.ok(validatePath(one(c.cert), [], store({ intermediates: [one(inter.cert)] }), NOW).ok);
  // Without it there is no path.
  refused(validatePath(one(c.cert), [], store(), NOW), "gw1", /no path to a trusted CA/);
});

Deno.test("RSA end entity directly under the root; traditional key form", async () => {
  const c = await ee("rsa1", root, { alg: "rsa2048", pkcs8: false });
  assert.ok(validatePath(one(c.cert), [], store(), NOW).ok);
});

Deno.test("wrong CA: a certificate from another root is refused", async () => {
  const c = await ee("foreign", other);
  refused(validatePath(one(c.cert), [], store(), NOW), "foreign", /no path to a trusted CA/);
});

Deno.test("validity uses the injected clock: expired and not yet valid", async () => {
  const old = await ee("old", root, {
    notBefore: new Date(NOW.getTime() - 40 * DAY),
    notAfter: new Date(NOW.getTime() - DAY),
  });
  refused(validatePath(one(old.cert), [], store(), NOW), "old", /expired on/);
  // The same certificate was fine two days earlier.
  assert.ok(validatePath(one(old.cert), [], store(), new Date(NOW.getTime() - 2 * DAY)).ok);
  const early = await ee("early", root, { notBefore: new Date(NOW.getTime() + DAY) });
  refused(validatePath(one(early.cert), [], store(), NOW), "early", /not valid before/);
});

Deno.test("revoked by the issuer's CRL; a CRL of another CA or a forged one is ignored", async () => {
  const base2 = await Deno.makeTempDir({ prefix: "bg-pki-crl-" });
  const ca = await makeCa(base2, "crlca", undefined, { alg: "rsa2048" });
  const good = await issue(base2, "kept", ca, { subject: "/C=CH/O=branchgate test/CN=kept" });
  const bad = await issue(base2, "gone", ca, { subject: "/C=CH/O=branchgate test/CN=gone" });
  const crl = await revokeAndCrl(base2, ca, [bad.cert], "crlca");
  const s: TrustStore = { anchors: [one(ca.cert)], intermediates: [], crls: loadCrls(crl) };
  assert.equal(loadCrls(crl)[0]!.revoked.size, 1);
  refused(validatePath(one(bad.cert), [], s, NOW), "gone", /revoked on/);
  assert.ok(validatePath(one(good.cert), [], s, NOW).ok);
  // Without the CRL the check is relaxed.
  assert.ok(validatePath(one(bad.cert), [], { ...s, crls: [] }, NOW).ok);
  // A CRL signed by another CA does not count.
  const foreign = await revokeAndCrl(base, other, [], "other");
  const fake = loadCrls(foreign)[0]!;
  const forged = { ...fake, issuer: loadCrls(crl)[0]!.issuer, revoked: loadCrls(crl)[0]!.revoked };
  assert.ok(validatePath(one(bad.cert), [], { ...s, crls: [forged] }, NOW).ok);
  await Deno.remove(base2, { recursive: true });
});

Deno.test("tampered signature is refused", async () => {
  const c = await ee("tamper", root);
  const der = one(c.cert).der.slice();
  der[der.length - 5]! ^= 0x01; // inside the signature value
  const { parseCertificate } = await import("../../../src/pki/x509.ts");
  refused(validatePath(parseCertificate(der), [], store(), NOW), "tamper", /does not verify/);
});

Deno.test("CA and usage constraints", async () => {
  // An end entity (no cA) used as an issuer.
  const notCa = await issue(base, "notca", root, {
    subject: "/C=CH/O=branchgate test/CN=notca",
    ext: "basicConstraints = CA:false\nkeyUsage = digitalSignature, keyCertSign",
  });
  const under = await issue(base, "under", { ...root, cert: notCa.cert, key: notCa.key }, {
    subject: "/C=CH/O=branchgate test/CN=under",
  });
  refused(validatePath(one(under.cert), [one(notCa.cert)], store(), NOW), "notca", /no cA flag/);
  // keyUsage without digitalSignature.
  const enc = await ee("enconly", root, { ext: "keyUsage = keyEncipherment" });
  refused(validatePath(one(enc.cert), [], store(), NOW), "enconly", /digitalSignature/);
  // EKU only for code signing.
  const code = await ee("codesign", root, { ext: "extendedKeyUsage = codeSigning" });
  refused(validatePath(one(code.cert), [], store(), NOW), "codesign", /extendedKeyUsage/);
  const ike = await ee("ikeeku", root, {
    ext: "extendedKeyUsage = serverAuth, 1.3.6.1.5.5.7.3.17",
  });
  assert.ok(validatePath(one(ike.cert), [], store(), NOW).ok);
  // RSA under 2048 bits.
  const weak = await ee("weak", root, { alg: "rsa1024" });
  refused(validatePath(one(weak.cert), [], store(), NOW), "weak", /1024 bits/);
  // pathLen 0 on the intermediate: a further CA below it breaks the path.
  const sub = await makeCa(base, "sub", inter);
  const deep = await ee("deep", sub);
  refused(
    validatePath(one(deep.cert), [one(sub.cert), one(inter.cert)], store(), NOW),
    "inter",
    /pathLenConstraint 0/,
  );
});

Deno.test("credentials: key must match, key file must be private, chain collected", async () => {
  const c = await ee("gwcred", inter, { sans: "DNS:gw.example.net" });
  const creds = loadPeerCredentials({
    name: "p",
    cert: c.cert,
    key: c.key,
    ca: [root.cert, inter.cert],
  });
  assert.equal(creds.chain.length, 1);
  assert.equal(creds.trust.anchors.length, 1);
  assert.equal(creds.key.keyType, "ec");
  const otherKey = await ee("gwother", inter);
  assert.throws(
    () => loadPeerCredentials({ name: "p", cert: c.cert, key: otherKey.key, ca: [root.cert] }),
    /does not match/,
  );
  await Deno.chmod(c.key, 0o644);
  assert.throws(
    () => loadPeerCredentials({ name: "p", cert: c.cert, key: c.key, ca: [root.cert] }),
    /readable by others \(mode 644\); run chmod 600/,
  );
  await Deno.chmod(c.key, 0o600);
  assert.throws(
    () => loadPeerCredentials({ name: "p", cert: c.cert, key: c.key, ca: [inter.cert] }),
    /no self-signed trust anchor/,
  );
});

globalThis.addEventListener("unload", () => Deno.removeSync(base, { recursive: true }));
