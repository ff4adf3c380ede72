import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { getCrypto } from "../../../../src/crypto/registry.ts";
import { authenticatorFor, isAuthFailure } from "../../../../src/ike/auth/authenticator.ts";
import { MemoryCredentials } from "../../../../src/ike/auth/credentials.ts";
import { PskAuthenticator } from "../../../../src/ike/auth/psk.ts";
import type { PeerConfig } from "../../../../src/config/schema.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const hmac = (key: Uint8Array, data: Uint8Array) =>
  new Uint8Array(createHmac("sha256", key).update(data).digest());

Deno.test("IKEv2 PSK AUTH is prf(prf(PSK, 'Key Pad for IKEv2'), octets), RFC 7296 §2.15", () => {
  const c = getCrypto();
  const psk = enc("correct horse battery");
  const octets = enc("RealMessage|Nonce|MACedID");
  const a = new PskAuthenticator(psk);
  const proof = a.proveV2(c, { prf: "hmac-sha256", octets });
  assert.ok(!isAuthFailure(proof));
  // An independent computation with node:crypto.
  assert.deepEqual(proof.data, hmac(hmac(psk, enc("Key Pad for IKEv2")), octets));
  assert.equal(proof.method, 2);
  assert.equal(a.verifyV2(c, { prf: "hmac-sha256", octets }, proof), true);
  const other = new PskAuthenticator(enc("wrong horse battery"));
  const r = other.verifyV2(c, { prf: "hmac-sha256", octets }, proof);
  assert.ok(isAuthFailure(r));
  assert.match(r.reason, /wrong PSK/);
  assert.ok(isAuthFailure(a.verifyV2(c, { prf: "hmac-sha256", octets }, { ...proof, method: 1 })));
});

Deno.test("IKEv1 PSK: SKEYID = prf(PSK, Ni | Nr); HASH proof compared whole", () => {
  const c = getCrypto();
  const psk = enc("correct horse battery");
  const ni = new Uint8Array(16).fill(1);
  const nr = new Uint8Array(16).fill(2);
  const a = new PskAuthenticator(psk);
  const skeyid = a.skeyidV1(c, "hmac-sha256", ni, nr, new Uint8Array(32));
  assert.deepEqual(skeyid, hmac(psk, new Uint8Array([...ni, ...nr])));
  const h = new Uint8Array(32).fill(7);
  assert.deepEqual(a.proveV1(h), { kind: "hash", data: h });
  assert.equal(a.verifyV1(h, { kind: "hash", data: h.slice() }), true);
  assert.ok(isAuthFailure(a.verifyV1(h, { kind: "hash", data: h.slice(1) })));
  assert.ok(isAuthFailure(a.verifyV1(h, { kind: "sig", data: h })));
  assert.ok(isAuthFailure(a.verifyV1(h, undefined)));
});

Deno.test("a peer without a key fails every proof; the store compares keys per peer", () => {
  const c = getCrypto();
  const store = new MemoryCredentials(new Map([["hq", enc("secret-one")]]));
  const peer = { name: "branch" } as PeerConfig;
  const a = authenticatorFor(peer, store);
  assert.ok(isAuthFailure(a.proveV2(c, { prf: "hmac-sha256", octets: enc("x") })));
  assert.ok(
    isAuthFailure(a.skeyidV1(c, "hmac-sha256", enc("n".repeat(8)), enc("m".repeat(8)), enc("g"))),
  );
  const same = new MemoryCredentials(new Map([["hq", enc("secret-one")]]));
  const changed = new MemoryCredentials(new Map([["hq", enc("secret-two")]]));
  assert.equal(store.sameFor("hq", same), true);
  assert.equal(store.sameFor("hq", changed), false);
  assert.equal(store.sameFor("branch", changed), true);
  assert.equal(store.sameFor("hq", new MemoryCredentials()), false);
});
