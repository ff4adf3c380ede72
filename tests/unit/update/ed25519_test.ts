/** Ed25519 wrapper against the RFC 8032 §7.1 vectors and derived must-refuse cases. */

import assert from "node:assert/strict";
import {
  generateKeyPair,
  isValidPublicKey,
  publicKeyOf,
  sign,
  verify,
} from "../../../src/update/ed25519.ts";
import { fromHex, toHex } from "../../../src/update/hex.ts";

interface Vector {
  name: string;
  secretKey?: string;
  publicKey: string;
  message: string;
  signature: string;
}

function load(name: string): Vector[] {
  const url = new URL(`../../vectors/data/${name}`, import.meta.url);
  return (JSON.parse(Deno.readTextFileSync(url)) as { vectors: Vector[] }).vectors;
}

function bytes(hex: string): Uint8Array {
  const b = fromHex(hex);
  assert.ok(b !== undefined, `bad hex in vector: ${hex.slice(0, 16)}…`);
  return b;
}

Deno.test("Ed25519: RFC 8032 §7.1 public keys, signatures and verification", () => {
  const vectors = load("ed25519_rfc8032.json");
  assert.equal(vectors.length, 5);
  for (const v of vectors) {
    const sk = bytes(v.secretKey ?? "");
    const msg = bytes(v.message);
    assert.equal(toHex(publicKeyOf(sk) ?? new Uint8Array()), v.publicKey, v.name);
    assert.equal(toHex(sign(sk, msg)), v.signature, v.name);
    assert.ok(verify(bytes(v.publicKey), msg, bytes(v.signature)), v.name);
    assert.ok(isValidPublicKey(bytes(v.publicKey)), v.name);
  }
});

Deno.test("Ed25519: derived bad signatures are refused without throwing", () => {
  const vectors = load("ed25519_reject.json");
  assert.ok(vectors.length >= 8);
  for (const v of vectors) {
    assert.equal(verify(bytes(v.publicKey), bytes(v.message), bytes(v.signature)), false, v.name);
  }
});

Deno.test("Ed25519: fresh keys sign and verify; small-order and short keys are not valid", () => {
  const kp = generateKeyPair();
  const msg = new TextEncoder().encode("branchgate");
  const sig = sign(kp.secretKey, msg);
  assert.ok(verify(kp.publicKey, msg, sig));
  assert.equal(verify(kp.publicKey, msg.subarray(1), sig), false);
  const identity = new Uint8Array(32);
  identity[0] = 1;
  assert.equal(isValidPublicKey(identity), false);
  assert.equal(isValidPublicKey(kp.publicKey.subarray(1)), false);
  assert.equal(publicKeyOf(new Uint8Array(31)), undefined);
  assert.throws(() => sign(new Uint8Array(31), msg), RangeError);
});
