import assert from "node:assert/strict";
import { issueCert } from "../../../src/update/cert.ts";
import { createBundle, signBundle } from "../../../src/update/create.ts";
import { fromHex, toHex } from "../../../src/update/hex.ts";
import { publicPart, secretKeyInfo } from "../../../src/update/keys.ts";
import { compareVersions, parseSemVer } from "../../../src/update/semver.ts";
import { verifyBundleBytes } from "../../../src/update/stream.ts";

const dir = new URL("./", import.meta.url);

Deno.test("semver vectors: §11 precedence, build metadata ignored, invalid strings refused", () => {
  const v = JSON.parse(Deno.readTextFileSync(new URL("semver.json", dir))) as {
    ascending: string[];
    equal: [string, string][];
    invalid: string[];
  };
  for (let i = 0; i < v.ascending.length; i++) {
    for (let j = 0; j < v.ascending.length; j++) {
      const c = compareVersions(v.ascending[i]!, v.ascending[j]!);
      assert.equal(Math.sign(c), Math.sign(i - j), `${v.ascending[i]} vs ${v.ascending[j]}`);
    }
  }
  for (const [a, b] of v.equal) assert.equal(compareVersions(a, b), 0, `${a} = ${b}`);
  for (const s of v.invalid) assert.equal(parseSemVer(s), undefined, JSON.stringify(s));
});

Deno.test("bundle format 1 vector: rebuilt byte for byte and verifies with the root key", () => {
  const v = JSON.parse(Deno.readTextFileSync(new URL("bundle_v1.json", dir)));
  const root = secretKeyInfo("root", "vector-root", fromHex(v.rootSeed, 32)!);
  const rel = secretKeyInfo("release", "vector-release", fromHex(v.releaseSeed, 32)!);
  assert.equal(toHex(root.publicKey), v.rootPublicKey);
  const cert = issueCert(
    root,
    publicPart(rel),
    new Date(v.certNotBefore),
    new Date(v.certNotAfter),
  );
  const te = new TextEncoder();
  const payloads = (v.payloads as { name: string; text: string; mode: number }[]).map((p) => ({
    name: p.name,
    data: te.encode(p.text),
    mode: p.mode,
  }));
  const built = signBundle(createBundle(v.manifest, payloads), rel, cert);
  assert.equal(toHex(built), v.bundleHex);
  const ok = verifyBundleBytes(fromHex(v.bundleHex)!, {
    trust: { roots: [publicPart(root)], revoked: new Set() },
    now: new Date(v.now),
    maxSize: 1 << 20,
  });
  assert.equal(ok.manifest.version, v.manifest.version);
  assert.equal(ok.signers[0]?.releaseKeyId, v.releaseKeyId);
  assert.equal(ok.signers[0]?.rootKeyId, v.rootKeyId);
});
