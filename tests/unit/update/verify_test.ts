import assert from "node:assert/strict";
import { issueCert } from "../../../src/update/cert.ts";
import {
  assembleBundle,
  createBundle,
  signBundle,
  splitBundle,
} from "../../../src/update/create.ts";
import { sign } from "../../../src/update/ed25519.ts";
import { UpdateError } from "../../../src/update/errors.ts";
import { encodeHeader, HEADER_LENGTH, MAX_MANIFEST } from "../../../src/update/format.ts";
import { publicPart } from "../../../src/update/keys.ts";
import { encodeManifest, parseManifest } from "../../../src/update/manifest.ts";
import { BundleStream, type StreamOptions, verifyBundleBytes } from "../../../src/update/stream.ts";
import { makeBundle, makeKeys, NOW, payloadsFor } from "./fixture.ts";

const keys = makeKeys();
const opts: StreamOptions = { trust: keys.trust, now: NOW, maxSize: 1 << 20 };

function refused(bytes: Uint8Array, code?: string, o: StreamOptions = opts): UpdateError {
  try {
    verifyBundleBytes(bytes, o);
  } catch (err) {
    assert.ok(err instanceof UpdateError, String(err));
    assert.ok(err.message.length > 0);
    if (code !== undefined) assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail("bundle was accepted");
}

Deno.test("a signed bundle verifies and names its signer", () => {
  const v = verifyBundleBytes(makeBundle(keys, "1.2.3"), opts);
  assert.equal(v.manifest.version, "1.2.3");
  assert.equal(v.signers.length, 1);
  assert.equal(v.signers[0]?.releaseName, "rel");
  assert.equal(v.signers[0]?.rootKeyId, keys.root.keyId);
});

Deno.test("byte-at-a-time streaming gives the same payload bytes as the source", () => {
  const bytes = makeBundle(keys, "1.0.0");
  const got = new Map<string, number[]>();
  let cur = "";
  const s = new BundleStream({
    ...opts,
    sink: {
      begin: (e) => {
        cur = e.name;
        got.set(cur, []);
      },
      write: (b) => got.get(cur)?.push(...b),
      end: () => {},
    },
  });
  for (let i = 0; i < bytes.length; i++) s.push(bytes.subarray(i, i + 1));
  s.finish();
  for (const p of payloadsFor("1.0.0")) {
    assert.deepEqual(new Uint8Array(got.get(p.name) ?? []), p.data);
  }
});

Deno.test("flipping a byte of the header, manifest, signatures or payload is refused", () => {
  const bytes = makeBundle(keys, "1.0.0");
  const parts = splitBundle(bytes);
  const mEnd = HEADER_LENGTH + parts.header.manifestLength;
  const sEnd = mEnd + parts.header.signatureLength;
  const positions = new Set<number>();
  for (let i = 0; i < HEADER_LENGTH; i++) positions.add(i);
  for (let i = sEnd; i < bytes.length; i++) positions.add(i);
  // Manifest and signature block: 60 spread positions each, plus both ends.
  for (const [a, b] of [[HEADER_LENGTH, mEnd], [mEnd, sEnd]] as const) {
    for (let k = 0; k < 60; k++) positions.add(a + Math.floor(((b - a - 1) * k) / 59));
  }
  for (const i of positions) {
    for (const mask of [0x01, 0x80]) {
      const t = bytes.slice();
      t[i] = (t[i] as number) ^ mask;
      refused(t);
    }
  }
});

Deno.test("unsigned, wrong root, revoked and expired keys are refused", () => {
  const unsigned = createBundle({
    product: "branchgate",
    version: "1.0.0",
    board: "generic",
    arch: "x86_64",
    created: NOW.toISOString(),
    minVersion: "0.0.0",
    revokeKeys: [],
  }, payloadsFor("1.0.0"));
  assert.match(refused(unsigned, "signature").message, /not signed/);
  const other = makeKeys("2");
  refused(makeBundle(other, "1.0.0"), "signature");
  const bytes = makeBundle(keys, "1.0.0");
  refused(bytes, "revoked", {
    ...opts,
    trust: { ...keys.trust, revoked: new Set([keys.release.keyId]) },
  });
  refused(bytes, "revoked", {
    ...opts,
    trust: { ...keys.trust, revoked: new Set([keys.root.keyId]) },
  });
  refused(bytes, "expired", { ...opts, now: new Date(NOW.getTime() + 2 * 86_400_000) });
  refused(bytes, "expired", { ...opts, now: new Date(NOW.getTime() - 2 * 86_400_000) });
  // A release key certified by a root the device does not trust, even with a valid signature.
  const rogue = issueCert(other.root, publicPart(keys.release), NOW, new Date(NOW.getTime() + 1e6));
  refused(signBundle(unsigned, keys.release, rogue), "signature");
  // A second, bad signature next to a good one: every signature must verify.
  const two = signBundle(bytes, other.release, other.cert);
  refused(two, "signature");
});

Deno.test("truncation at every section boundary and trailing data are refused", () => {
  const bytes = makeBundle(keys, "1.0.0");
  const parts = splitBundle(bytes);
  const mEnd = HEADER_LENGTH + parts.header.manifestLength;
  const sEnd = mEnd + parts.header.signatureLength;
  for (
    const n of [0, 7, HEADER_LENGTH - 1, HEADER_LENGTH, mEnd, sEnd - 1, sEnd, bytes.length - 1]
  ) {
    assert.match(refused(bytes.slice(0, n), "format").message, /truncated/);
  }
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  assert.match(refused(longer, "format").message, /trailing/);
});

Deno.test("oversized header, manifest and bundle are refused from the header alone", () => {
  const h = encodeHeader({
    manifestLength: MAX_MANIFEST + 1,
    signatureLength: 10,
    payloadLength: 1,
  });
  assert.match(refused(h, "format").message, /manifest length/);
  const big = encodeHeader({ manifestLength: 100, signatureLength: 10, payloadLength: 1 });
  new DataView(big.buffer).setUint16(10, 4096);
  assert.match(refused(big, "format").message, /header length/);
  const bytes = makeBundle(keys, "1.0.0", { extra: 5000 });
  assert.match(refused(bytes, "format", { ...opts, maxSize: 4000 }).message, /size cap/);
});

Deno.test("duplicate names and path traversal in payload names are refused even when signed", () => {
  const base = parseManifest(splitBundle(makeBundle(keys, "1.0.0")).manifestBytes);
  const cases: [string, string[]][] = [
    ["duplicate", ["a.js", "a.js"]],
    ["duplicate", ["A.js", "a.js"]],
    ["traversal", ["../etc/passwd"]],
    ["traversal", ["lib/../../x"]],
    ["absolute", ["/etc/passwd"]],
    ["empty segment", ["lib//x"]],
    ["below another", ["lib", "lib/x"]],
  ];
  for (const [why, names] of cases) {
    const payloads = names.map((name) => ({
      name,
      size: 0,
      sha256: base.payloads[0]!.sha256,
      mode: 0o644,
    }));
    const m = encodeManifest({ ...base, payloads });
    // Sign it for real, so only the name rule can refuse it.
    const signed = signManifest(m);
    const err = refused(signed, "manifest");
    assert.match(err.message, new RegExp(why.split(" ")[0] as string), err.message);
  }
});

function signManifest(manifestBytes: Uint8Array): Uint8Array {
  // signBundle parses the manifest (and would refuse it): sign the bytes directly instead.
  const signature = sign(keys.release.secretKey, manifestBytes);
  return assembleBundle(manifestBytes, [{ cert: keys.cert, signature }], new Uint8Array(0));
}
