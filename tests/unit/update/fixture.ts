/**
 * Test keys and bundles for the update tests: one root, one release key certified for a window
 * around a fixed test time, and small bundles built with the real tools.
 * @module
 */

import { issueCert, type SignedCert } from "../../../src/update/cert.ts";
import { createBundle, type PayloadInput, signBundle } from "../../../src/update/create.ts";
import { generateKeyPair } from "../../../src/update/ed25519.ts";
import { publicPart, type SecretKeyInfo, secretKeyInfo } from "../../../src/update/keys.ts";
import type { TrustAnchors } from "../../../src/update/trust.ts";

/**
 * The "now" of the tests: fixed, never the wall clock. `BRANCHGATE_TEST_NOW` (ISO 8601) moves it,
 * so `make test` can run the time-dependent suites again a year ahead (tests/run.sh).
 */
export const NOW = testNow();

function testNow(): Date {
  const text = Deno.env.get("BRANCHGATE_TEST_NOW") ?? "2026-11-23T08:00:00.000Z";
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new Error(`BRANCHGATE_TEST_NOW: not a date: ${text}`);
  return d;
}

/** A root key, a release key it certified, and the certificate. */
export interface TestKeys {
  readonly root: SecretKeyInfo;
  readonly release: SecretKeyInfo;
  readonly cert: SignedCert;
  readonly trust: TrustAnchors;
}

/** Fresh keys; the release certificate is valid for a day either side of `center`. */
export function makeKeys(suffix = "", center: Date = NOW): TestKeys {
  const root = secretKeyInfo("root", `root${suffix}`, generateKeyPair().secretKey);
  const release = secretKeyInfo("release", `rel${suffix}`, generateKeyPair().secretKey);
  const day = 86_400_000;
  const cert = issueCert(
    root,
    publicPart(release),
    new Date(center.getTime() - day),
    new Date(center.getTime() + day),
  );
  return { root, release, cert, trust: { roots: [publicPart(root)], revoked: new Set() } };
}

/** Payloads of a version: an app file whose content names the version, and a runtime stub. */
export function payloadsFor(version: string, extra = 0): PayloadInput[] {
  const te = new TextEncoder();
  return [
    {
      name: "branchgate.js",
      data: te.encode(`// branchgate ${version}\n` + "x".repeat(extra)),
      mode: 0o644,
    },
    { name: "bin/branchgate", data: te.encode(`#!/bin/sh\necho ${version}\n`), mode: 0o755 },
  ];
}

/** A signed bundle of `version`. */
export function makeBundle(
  keys: TestKeys,
  version: string,
  opts: { minVersion?: string; revokeKeys?: string[]; extra?: number; arch?: string } = {},
): Uint8Array {
  const unsigned = createBundle({
    product: "branchgate",
    version,
    board: "generic",
    arch: opts.arch ?? "x86_64",
    created: NOW.toISOString(),
    minVersion: opts.minVersion ?? "0.0.0",
    revokeKeys: opts.revokeKeys ?? [],
  }, payloadsFor(version, opts.extra ?? 0));
  return signBundle(unsigned, keys.release, keys.cert);
}
