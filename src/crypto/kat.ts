/**
 * Known-answer tests for one backend, from the vector files in `kat/` (RFC 7634 App. A, NIST GCM,
 * RFC 4868 §2.7.1/§2.7.2, RFC 2202, FIPS 180-2, RFC 3602, SP 800-38A, NIST TDES, RFC 3566,
 * RFC 4434). A backend's algorithm is used only after its test passes.
 * @module
 */

import aead from "./kat/aead.json" with { type: "json" };
import hmac4868 from "./kat/hmac_rfc4868.json" with { type: "json" };
import hashes from "./kat/hash.json" with { type: "json" };
import ciphers from "./kat/cipher.json" with { type: "json" };
import macs from "./kat/mac.json" with { type: "json" };
import { dhKat } from "./kat_dh.ts";
import type {
  AeadAlg,
  AlgorithmName,
  CipherAlg,
  CryptoBackend,
  DhGroupId,
  HashAlg,
  MacAlg,
  PrfAlg,
} from "./types.ts";

/** Outcome of one algorithm's KAT on one backend. */
export type KatResult = "pass" | "fail" | "absent";

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function same(a: Uint8Array | undefined, hexText: string): boolean {
  if (a === undefined || a.length * 2 !== hexText.length) return false;
  return a.every((x, i) => x === parseInt(hexText.slice(2 * i, 2 * i + 2), 16));
}

function aeadKat(b: CryptoBackend, alg: AeadAlg): boolean {
  const cases = aead.cases.filter((c) => c.alg === alg);
  if (cases.length === 0) return false;
  return cases.every((v) => {
    const ctx = b.aead(alg, hex(v.key));
    if (ctx === undefined) return false;
    try {
      const pt = hex(v.plaintext);
      const buf = new Uint8Array(pt.length + 16);
      buf.set(pt);
      ctx.seal(hex(v.nonce), hex(v.aad), buf, 0, pt.length);
      if (!same(buf, v.ciphertext + v.tag)) return false;
      if (
        !ctx.open(hex(v.nonce), hex(v.aad), buf, 0, pt.length) ||
        !same(buf.subarray(0, pt.length), v.plaintext)
      ) {
        return false;
      }
      buf[pt.length] = buf[pt.length]! ^ 1; // a bad tag must be refused
      return !ctx.open(hex(v.nonce), hex(v.aad), buf, 0, pt.length);
    } finally {
      ctx.dispose();
    }
  });
}

function cipherKat(b: CryptoBackend, alg: CipherAlg): boolean {
  const cases = ciphers.cases.filter((c) => c.alg === alg);
  return cases.length > 0 && cases.every((v) => {
    const ctx = b.cipher(alg, hex(v.key));
    if (ctx === undefined) return false;
    try {
      const buf = hex(v.plaintext);
      ctx.encrypt(hex(v.iv), buf, 0, buf.length);
      if (!same(buf, v.ciphertext)) return false;
      ctx.decrypt(hex(v.iv), buf, 0, buf.length);
      return same(buf, v.plaintext);
    } finally {
      ctx.dispose();
    }
  });
}

function macKat(b: CryptoBackend, alg: MacAlg): boolean {
  const cases = macs.cases.filter((c) => c.alg === alg);
  return cases.length > 0 && cases.every((v) => {
    const ctx = b.mac(alg, hex(v.key));
    if (ctx === undefined) return false;
    try {
      // Twice with the same context: per-packet state must be reset between messages.
      return same(ctx.compute(hex(v.data)), v.icv) && same(ctx.compute(hex(v.data)), v.icv);
    } finally {
      ctx.dispose();
    }
  });
}

function prfKat(b: CryptoBackend, alg: PrfAlg): boolean {
  const cases: { key: string; data: string; out: string }[] = [];
  for (const v of hmac4868.cases) {
    const out = (v as Record<string, string>)[alg];
    if (out !== undefined) cases.push({ key: v.key, data: v.data, out });
  }
  for (const v of hashes.hmac) if (v.alg === alg) cases.push(v);
  for (const v of macs.prf) if (v.alg === alg) cases.push(v);
  return cases.length > 0 && cases.every((v) => same(b.prf(alg, hex(v.key), hex(v.data)), v.out));
}

function hashKat(b: CryptoBackend, alg: HashAlg): boolean {
  const cases = hashes.hash.filter((v) => v.alg === alg);
  return cases.length > 0 && cases.every((v) => same(b.hash(alg, hex(v.data)), v.out));
}

function randomKat(b: CryptoBackend): boolean {
  // Not a known answer: a sanity check that two draws differ and are not all zero.
  const x = b.randomBytes(32);
  const y = b.randomBytes(32);
  return x.length === 32 && x.some((v) => v !== 0) && x.some((v, i) => v !== y[i]);
}

/** Runs the KAT of `alg` on backend `b`. Any exception counts as a failure. */
export function runKat(b: CryptoBackend, alg: AlgorithmName): KatResult {
  if (!b.supports(alg)) return "absent";
  const [kind, name] = alg.split(":") as [string, string | undefined];
  try {
    switch (kind) {
      case "aead":
        return aeadKat(b, name as AeadAlg) ? "pass" : "fail";
      case "cipher":
        return cipherKat(b, name as CipherAlg) ? "pass" : "fail";
      case "mac":
        return macKat(b, name as MacAlg) ? "pass" : "fail";
      case "prf":
        return prfKat(b, name as PrfAlg) ? "pass" : "fail";
      case "hash":
        return hashKat(b, name as HashAlg) ? "pass" : "fail";
      case "dh":
        return dhKat(b, Number(name) as DhGroupId) ? "pass" : "fail";
      case "random":
        return randomKat(b) ? "pass" : "fail";
      default:
        return "absent"; // no KAT data yet: never used (see registry)
    }
  } catch {
    return "fail";
  }
}
