/**
 * The registry uses a backend's algorithm only after its known-answer test passed.
 */

import assert from "node:assert/strict";
import { CryptoRegistry, getCrypto, initCrypto } from "../../../src/crypto/registry.ts";
import { createSoftwareBackend } from "../../../src/crypto/software.ts";
import { selftest } from "../../../src/crypto/selftest.ts";
import type { CryptoBackend } from "../../../src/crypto/types.ts";

/** A backend that claims everything but gets AES-128-GCM tags and SHA-256 wrong. */
function liar(): CryptoBackend {
  const good = createSoftwareBackend();
  return {
    ...good,
    name: "liar",
    aead: (alg, key) => {
      const ctx = good.aead(alg, key);
      if (ctx === undefined || alg !== "aes128gcm16") return ctx;
      return {
        ...ctx,
        alg,
        icvLength: 16,
        seal: (n, a, buf, off, len) => {
          ctx.seal(n, a, buf, off, len);
          buf[off + len] = buf[off + len]! ^ 1;
        },
        open: (n, a, buf, off, len) => ctx.open(n, a, buf, off, len),
        dispose: () => ctx.dispose(),
      };
    },
    hash: (alg, data) => (alg === "sha256" ? new Uint8Array(32) : good.hash(alg, data)),
  };
}

Deno.test("an algorithm whose KAT fails on the preferred backend comes from the next one", () => {
  const r = new CryptoRegistry([liar(), createSoftwareBackend()]);
  assert.equal(r.chosen("aead:aes128gcm16"), "software");
  assert.equal(r.chosen("hash:sha256"), "software");
  assert.equal(r.chosen("aead:aes256gcm16"), "liar"); // passes its KAT, so preferred
  const row = r.report().find((x) => x.alg === "aead:aes128gcm16");
  assert.deepEqual(row?.results, [["liar", "fail"], ["software", "pass"]]);
});

Deno.test("an algorithm with no passing backend is refused, not served", () => {
  const r = new CryptoRegistry([liar()]);
  assert.equal(r.chosen("aead:aes128gcm16"), undefined);
  assert.throws(() => r.aead("aes128gcm16", new Uint8Array(16)), /known-answer/);
  assert.throws(() => r.hash("sha256", new Uint8Array()), /known-answer/);
});

Deno.test("branchgate selftest shows libcrypto chosen for AES-GCM and exits 0", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("../../../src/main.ts", import.meta.url).pathname,
      "selftest",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, text);
  assert.match(text, /aead:aes128gcm16\s+pass\s+pass\s+libcrypto/);
  assert.match(text, /selftest: ok/);
});

/** Wraps a backend so every call to `supports` (made once per KAT run) is counted. */
function counting(inner: CryptoBackend): { backend: CryptoBackend; runs: string[] } {
  const runs: string[] = [];
  return {
    runs,
    backend: {
      ...inner,
      name: `counted-${inner.name}`,
      supports: (alg) => {
        runs.push(alg);
        return inner.supports(alg);
      },
    },
  };
}

Deno.test("KATs run lazily: none at construction, one algorithm on first use, then cached", () => {
  const first = counting(createSoftwareBackend());
  const second = counting(createSoftwareBackend());
  const r = new CryptoRegistry([first.backend, second.backend]);
  assert.deepEqual(first.runs, []);
  r.hash("sha256", new Uint8Array(3));
  r.hash("sha256", new Uint8Array(3));
  assert.deepEqual(first.runs, ["hash:sha256"]);
  assert.deepEqual(second.runs, [], "the second backend is not tested when the first passes");
  const rows = r.report();
  assert.equal(rows.length, r.algorithms.length);
  assert.equal(first.runs.filter((a) => a === "hash:sha256").length, 1, "cached, not re-run");
  const secondRuns: string[] = second.runs; // (deepEqual above narrowed the type to never[])
  assert.ok(secondRuns.includes("hash:sha256"), "report() tests every backend");
});

Deno.test("selftest fails only for missing default algorithms, not legacy-only ones", () => {
  const good = createSoftwareBackend();
  const noMd5: CryptoBackend = {
    ...good,
    supports: (alg) => alg !== "hash:md5" && alg !== "prf:hmac-md5" && good.supports(alg),
  };
  const legacyGone = selftest(new CryptoRegistry([noMd5], ["hash:md5", "hash:sha256"]));
  assert.deepEqual(legacyGone.missing, []);
  assert.match(legacyGone.lines.at(-1)!, /ok \(1 legacy-only/);
  const defaultGone = selftest(new CryptoRegistry([liar()], ["hash:sha256", "hash:sha1"]));
  assert.deepEqual(defaultGone.missing, ["hash:sha256"]);
  assert.match(defaultGone.lines.at(-1)!, /FAILED.*hash:sha256/);
});

Deno.test("initCrypto: libcrypto alone when it passes every needed test; all backends on request", async () => {
  const alone = await initCrypto();
  assert.deepEqual(alone.backends.map((b) => b.name), ["libcrypto"]);
  assert.equal(getCrypto(), alone);
  const all = await initCrypto({ allBackends: true });
  assert.deepEqual(all.backends.map((b) => b.name), ["libcrypto", "software"]);
  assert.equal(getCrypto(), all);
});
