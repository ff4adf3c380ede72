/**
 * Seeded mutations of openssl-made certificates and a CRL: parsing either succeeds or throws a
 * DerError (never another exception), and a mutated certificate that still parses never
 * validates unless its signed part is unchanged.
 */

import assert from "node:assert/strict";
import { DerError } from "../../../src/pki/der.ts";
import { parseCrl } from "../../../src/pki/crl.ts";
import { validatePath } from "../../../src/pki/path.ts";
import { derObjects } from "../../../src/pki/pem.ts";
import { parseCertificate } from "../../../src/pki/x509.ts";
import { issue, makeCa, NOW, revokeAndCrl } from "./fixture.ts";

const base = await Deno.makeTempDir({ prefix: "bg-pki-fuzz-" });
const ca = await makeCa(base, "ca", undefined, { alg: "rsa2048" });
const ee = await issue(base, "ee", ca, {
  subject: "/CN=ee.example.net",
  sans: "DNS:ee.example.net",
});
const crlPath = await revokeAndCrl(base, ca, [ee.cert], "ca");
const seed = Number(Deno.env.get("BRANCHGATE_FUZZ_SEED") ?? 0x5eed) >>> 0;

function rng(s: number) {
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function mutate(b: Uint8Array, r: () => number): Uint8Array {
  const out = b.slice();
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const i = Math.floor(r() * out.length);
    const what = r();
    if (what < 0.5) out[i] = Math.floor(r() * 256);
    else if (what < 0.75) out[i] = out[i]! ^ (1 << Math.floor(r() * 8));
    else return out.subarray(0, i); // truncation
  }
  return out;
}

Deno.test(`mutated certificates and CRLs: DerError or a result, never a crash (seed ${seed})`, () => {
  const cert = derObjects(Deno.readFileSync(ee.cert), "CERTIFICATE")[0]!;
  const anchor = parseCertificate(derObjects(Deno.readFileSync(ca.cert), "CERTIFICATE")[0]!);
  const crl = derObjects(Deno.readFileSync(crlPath), "X509 CRL")[0]!;
  const original = parseCertificate(cert);
  const r = rng(seed || 1);
  let parsed = 0;
  for (let k = 0; k < 3000; k++) {
    const m = mutate(cert, r);
    try {
      const c = parseCertificate(m);
      parsed++;
      const v = validatePath(c, [], { anchors: [anchor], intermediates: [], crls: [] }, NOW);
      const sameTbs = c.tbs.length === original.tbs.length &&
        c.tbs.every((x, i) => x === original.tbs[i]);
      if (v.ok) assert.ok(sameTbs, "a changed TBS must not validate");
    } catch (e) {
      assert.ok(e instanceof DerError, `not a DerError: ${e}`);
    }
    try {
      parseCrl(mutate(crl, r));
    } catch (e) {
      assert.ok(e instanceof DerError, `CRL: not a DerError: ${e}`);
    }
  }
  assert.ok(parsed > 0);
});

globalThis.addEventListener("unload", () => Deno.removeSync(base, { recursive: true }));
