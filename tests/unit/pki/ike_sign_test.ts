/**
 * IKE signature encodings with keys and certificates made by openssl: IKEv1 raw-hash RSA and
 * ECDSA signatures checked with `openssl pkeyutl` (an independent implementation), IKEv2 AUTH
 * methods 1, 9/10 and 14 (RSA-PSS and ECDSA) checked with openssl dgst / pkeyutl, and
 * tampering refused.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { issue, openssl } from "./fixture.ts";
import { loadCertificates } from "../../../src/pki/store.ts";
import { loadPrivateKey } from "../../../src/pki/keys.ts";
import {
  AuthMethodV2,
  SigHash,
  v1Sign,
  v1Verify,
  v2Sign,
  v2Verify,
} from "../../../src/pki/ike_sign.ts";

const base = await Deno.makeTempDir({ prefix: "bg-pki-sig-" });
const rsa = await issue(base, "rsa", undefined, {
  subject: "/CN=rsa",
  alg: "rsa2048",
  pkcs8: false,
});
const ec = await issue(base, "ec", undefined, { subject: "/CN=ec", alg: "p256" });
const ec384 = await issue(base, "ec384", undefined, { subject: "/CN=ec384", alg: "p384" });
const hashI = createHash("sha256").update("HASH_I").digest();
const octets = new TextEncoder().encode("IKEv2 signed octets ".repeat(10));
const pub = (p: string) => loadCertificates(p)[0]!.publicKey;

async function pubPem(cert: string): Promise<string> {
  const out = `${cert}.pub`;
  await openssl(["x509", "-in", cert, "-pubkey", "-noout", "-out", out], base);
  return out;
}

Deno.test("IKEv1 RSA signature is PKCS#1 v1.5 over the raw hash (openssl pkeyutl agrees)", async () => {
  const sig = v1Sign(loadPrivateKey(rsa.key), hashI);
  await Deno.writeFile(`${base}/v1rsa.sig`, sig);
  const out = await openssl(
    [
      "pkeyutl",
      "-verifyrecover",
      "-pubin",
      "-inkey",
      await pubPem(rsa.cert),
      "-in",
      `${base}/v1rsa.sig`,
      "-hexdump",
    ],
    base,
  );
  const hex = out.replace(/^.*?- /gm, "").replace(/ {2,}.*$/gm, "").replace(/[^0-9a-f]/g, "");
  assert.equal(hex, hashI.toString("hex"));
  assert.ok(v1Verify(pub(rsa.cert), hashI, sig));
  const bad = sig.slice();
  bad[7]! ^= 1;
  assert.ok(!v1Verify(pub(rsa.cert), hashI, bad));
  assert.ok(!v1Verify(pub(ec.cert), hashI, sig));
});

Deno.test("IKEv1 ECDSA signature is r||s over the raw hash (openssl pkeyutl agrees)", async () => {
  const sig = v1Sign(loadPrivateKey(ec.key), hashI);
  assert.equal(sig.length, 64);
  // openssl verifies a DER signature over a raw digest with pkeyutl -verify.
  const der = derOf(sig);
  await Deno.writeFile(`${base}/v1ec.sig`, der);
  await Deno.writeFile(`${base}/v1ec.hash`, hashI);
  const out = await openssl(
    [
      "pkeyutl",
      "-verify",
      "-pubin",
      "-inkey",
      await pubPem(ec.cert),
      "-in",
      `${base}/v1ec.hash`,
      "-sigfile",
      `${base}/v1ec.sig`,
    ],
    base,
  );
  assert.match(out, /Signature Verified Successfully/);
  assert.ok(v1Verify(pub(ec.cert), hashI, sig));
  const other = hashI.slice();
  other[0]! ^= 1;
  assert.ok(!v1Verify(pub(ec.cert), other, sig));
});

function derOf(rs: Uint8Array): Uint8Array {
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b[i]! & 0x80 ? [0, ...b.subarray(i)] : [...b.subarray(i)];
    return [2, v.length, ...v];
  };
  const h = rs.length / 2;
  const body = [...int(rs.subarray(0, h)), ...int(rs.subarray(h))];
  return new Uint8Array([0x30, body.length, ...body]);
}

async function dgstVerify(cert: string, hash: string, sig: Uint8Array, extra: string[] = []) {
  await Deno.writeFile(`${base}/octets`, octets);
  await Deno.writeFile(`${base}/v2.sig`, sig);
  return await openssl(
    [
      "dgst",
      `-${hash}`,
      "-verify",
      await pubPem(cert),
      ...extra,
      "-signature",
      `${base}/v2.sig`,
      `${base}/octets`,
    ],
    base,
  );
}

Deno.test("IKEv2 AUTH method 1 (RSA SHA-1) and 9/10 (ECDSA) without SIGNATURE_HASH_ALGORITHMS", async () => {
  const r = v2Sign(loadPrivateKey(rsa.key), octets, undefined);
  assert.equal(r.method, AuthMethodV2.RSA_SIG);
  assert.match(await dgstVerify(rsa.cert, "sha1", r.data), /Verified OK/);
  assert.equal(v2Verify(pub(rsa.cert), r.method, octets, r.data), true);
  const e = v2Sign(loadPrivateKey(ec.key), octets, undefined);
  assert.equal(e.method, AuthMethodV2.ECDSA_256);
  assert.match(await dgstVerify(ec.cert, "sha256", derOf(e.data)), /Verified OK/);
  assert.equal(v2Verify(pub(ec.cert), e.method, octets, e.data), true);
  const e3 = v2Sign(loadPrivateKey(ec384.key), octets, []);
  assert.equal(e3.method, AuthMethodV2.ECDSA_384);
  assert.equal(v2Verify(pub(ec384.cert), e3.method, octets, e3.data), true);
  assert.match(String(v2Verify(pub(ec384.cert), AuthMethodV2.ECDSA_256, octets, e3.data)), /P-256/);
});

Deno.test("IKEv2 AUTH method 14 (RFC 7427): RSA-PSS and ECDSA, checked by openssl", async () => {
  const r = v2Sign(loadPrivateKey(rsa.key), octets, [SigHash.SHA256, SigHash.SHA384]);
  assert.equal(r.method, AuthMethodV2.DIGITAL_SIGNATURE);
  const n = r.data[0]!;
  const sig = r.data.subarray(1 + n);
  assert.match(
    await dgstVerify(rsa.cert, "sha384", sig, [
      "-sigopt",
      "rsa_padding_mode:pss",
      "-sigopt",
      "rsa_pss_saltlen:48",
    ]),
    /Verified OK/,
  );
  assert.equal(v2Verify(pub(rsa.cert), 14, octets, r.data), true);
  const e = v2Sign(loadPrivateKey(ec.key), octets, [SigHash.SHA256, SigHash.SHA512]);
  assert.equal(e.method, AuthMethodV2.DIGITAL_SIGNATURE);
  assert.match(await dgstVerify(ec.cert, "sha256", e.data.subarray(1 + e.data[0]!)), /Verified OK/);
  assert.equal(v2Verify(pub(ec.cert), 14, octets, e.data), true);
  // RFC 7427 Appendix A.4.3 ecdsa-with-sha256 AlgorithmIdentifier.
  assert.equal(
    Buffer.from(e.data.subarray(1, 1 + e.data[0]!)).toString("hex"),
    "300a06082a8648ce3d040302",
  );
  const bad = e.data.slice();
  bad[bad.length - 3]! ^= 1;
  assert.notEqual(v2Verify(pub(ec.cert), 14, octets, bad), true);
  assert.match(String(v2Verify(pub(ec.cert), 14, octets, new Uint8Array([40, 1, 2]))), /malformed/);
  // An openssl-made PKCS#1 v1.5 sha256 signature with its RFC 7427 prefix verifies too.
  await Deno.writeFile(`${base}/octets`, octets);
  await openssl(
    ["dgst", "-sha256", "-sign", rsa.key, "-out", `${base}/p1.sig`, `${base}/octets`],
    base,
  );
  const p1 = await Deno.readFile(`${base}/p1.sig`);
  const ai = Buffer.from("300d06092a864886f70d01010b0500", "hex");
  const data = new Uint8Array([ai.length, ...ai, ...p1]);
  assert.equal(v2Verify(pub(rsa.cert), 14, octets, data), true);
});

globalThis.addEventListener("unload", () => Deno.removeSync(base, { recursive: true }));
