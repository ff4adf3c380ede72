/**
 * Helpers for the vector suite, which runs over every backend this machine offers
 * (`availableBackends` from the registry).
 * @module
 */

export { availableBackends } from "../../src/crypto/registry.ts";

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
