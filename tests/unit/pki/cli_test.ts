/**
 * `branchgate pki` end to end as a subprocess: keygen (mode 0600, never overwrites), a CSR
 * openssl verifies and reads back, show of an openssl-made certificate and CRL; no private key
 * material in any output; usage errors exit 2.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { issue, makeCa, openssl, revokeAndCrl } from "./fixture.ts";

const MAIN = fileURLToPath(new URL("../../../src/main.ts", import.meta.url));
const base = await Deno.makeTempDir({ prefix: "bg-pki-cli-" });

async function bg(...args: string[]) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--frozen", "-A", MAIN, "pki", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

Deno.test("keygen, csr, and the CA's certificate for it (the enrolment steps)", async () => {
  for (const [name, extra] of [["ec", []], ["rsa", ["--type", "rsa", "--bits", "2048"]]] as const) {
    const key = `${base}/${name}.key`;
    const k = await bg("keygen", "--out", key, ...extra);
    assert.equal(k.code, 0, k.err);
    assert.equal((await Deno.stat(key)).mode! & 0o777, 0o600);
    const again = await bg("keygen", "--out", key);
    assert.equal(again.code, 1);
    const keyText = await Deno.readTextFile(key);
    const csr = `${base}/${name}.csr`;
    const c = await bg(
      "csr",
      "--key",
      key,
      "--subject",
      "C=CH, O=Example AG, CN=gw.example.net",
      "--san",
      "gw.example.net",
      "--san",
      "IP:192.0.2.1",
      "--out",
      csr,
    );
    assert.equal(c.code, 0, c.err);
    const text = await openssl(["req", "-in", csr, "-verify", "-noout", "-text"], base).catch((e) =>
      String(e)
    );
    assert.match(text, /Subject: C = CH, O = Example AG, CN = gw.example.net/);
    assert.match(text, /DNS:gw.example.net, IP Address:192.0.2.1/);
    const body = keyText.split("\n").filter((l) => !l.startsWith("-----")).join("");
    for (const out of [k.out, k.err, c.out, c.err]) assert.ok(!out.includes(body.slice(0, 40)));
  }
  // A world-readable key is refused with the reason.
  await Deno.chmod(`${base}/ec.key`, 0o644);
  const r = await bg("csr", "--key", `${base}/ec.key`, "--subject", "CN=x");
  assert.equal(r.code, 1);
  assert.match(r.err, /readable by others \(mode 644\); run chmod 600/);
});

Deno.test("show prints a certificate and a CRL", async () => {
  const ca = await makeCa(base, "showca", undefined);
  const c = await issue(base, "shown", ca, {
    subject: "/C=CH/O=Example AG/CN=shown.example.net",
    sans: "DNS:shown.example.net, IP:192.0.2.9",
  });
  const s = await bg("show", c.cert);
  assert.equal(s.code, 0, s.err);
  assert.match(s.out, /subject: +C=CH, O=Example AG, CN=shown.example.net/);
  assert.match(s.out, /altNames: +DNS:shown.example.net, IP:192.0.2.9/);
  assert.match(s.out, /issuer: +C=CH, O=branchgate test, CN=showca/);
  const fp = (await openssl(["x509", "-in", c.cert, "-noout", "-fingerprint", "-sha256"], base))
    .trim().split("=")[1]!;
  assert.ok(s.out.includes(fp), `${fp} in\n${s.out}`);
  const crl = await revokeAndCrl(base, ca, [c.cert], "showca");
  const serial = (await openssl(["x509", "-in", c.cert, "-noout", "-serial"], base)).trim().split(
    "=",
  )[1]!;
  const sc = await bg("show", crl);
  assert.equal(sc.code, 0, sc.err);
  assert.match(sc.out, /revoked: +1/);
  assert.ok(sc.out.includes(serial));
  assert.equal((await bg("show")).code, 2);
  assert.equal((await bg("frob")).code, 2);
  const bad = await bg("show", `${base}/ec.csr`);
  assert.equal(bad.code, 1);
});

globalThis.addEventListener("unload", () => Deno.removeSync(base, { recursive: true }));
