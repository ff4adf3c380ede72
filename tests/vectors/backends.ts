/**
 * Helpers for the vector suite, which runs over every backend this machine offers
 * (`availableBackends` from the registry) and the /dev/crypto backend on the fake device
 * (tests/fakes/cryptodev, built here; a raw device backend offers only AES-GCM, AES-CBC and
 * HMAC, so tests skip it for the rest with `supports`).
 * @module
 */

import { availableBackends as registryBackends } from "../../src/crypto/registry.ts";
import type { CryptoBackend } from "../../src/crypto/types.ts";
import { FakeDevice, fakeLibrary } from "../fakes/cryptodev/fake.ts";

/** Every backend, the cryptodev one on the fake device last (never missing). */
export async function availableBackends(): Promise<CryptoBackend[]> {
  const list = await registryBackends(new FakeDevice().path, fakeLibrary());
  if (!list.some((b) => b.name === "cryptodev")) {
    throw new Error("the fake /dev/crypto did not open");
  }
  return list;
}

/** Hex text (whitespace ignored) to bytes. */
export function hex(s: string): Uint8Array {
  const t = s.replace(/\s+/g, "");
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Bytes to lower-case hex. */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
