/** Responder cookies: 8 bytes, never zero, differ per initiator, per time and per maker secret. */

import assert from "node:assert/strict";
import { getCrypto } from "../../../../src/crypto/registry.ts";
import { CookieMaker } from "../../../../src/ike/v1/cookies.ts";

const c = getCrypto();
const rnd = (n: number) => crypto.getRandomValues(new Uint8Array(n));

Deno.test("CookieMaker: unique, 8 bytes, nonzero, secret-dependent", () => {
  const m = new CookieMaker(rnd);
  const ep = { address: "192.0.2.2", port: 500 };
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const k = m.make(c, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, i), ep, 1000);
    assert.equal(k.length, 8);
    assert.ok(k.some((b) => b !== 0));
    seen.add(Array.from(k).join(","));
  }
  assert.equal(seen.size, 200);
  const ckyI = new Uint8Array(8).fill(9);
  const fixed = () => new Uint8Array(32).fill(1);
  const other = () => new Uint8Array(32).fill(2);
  assert.notDeepEqual(
    new CookieMaker(fixed).make(c, ckyI, ep, 5),
    new CookieMaker(other).make(c, ckyI, ep, 5),
  );
  assert.deepEqual(
    new CookieMaker(fixed).make(c, ckyI, ep, 5),
    new CookieMaker(fixed).make(c, ckyI, ep, 5),
  );
});
