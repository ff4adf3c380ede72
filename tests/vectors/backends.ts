/**
 * Every crypto backend available on this machine, so one vector suite runs over all of them.
 * @module
 */

import { createOpenSslBackend } from "../../src/crypto/openssl.ts";
import { createSoftwareBackend } from "../../src/crypto/software.ts";
import type { CryptoBackend } from "../../src/crypto/types.ts";

/** The backends to test; libcrypto is required where Debian's libssl3 is installed. */
export function availableBackends(): CryptoBackend[] {
  const list = [createSoftwareBackend()];
  const ossl = createOpenSslBackend();
  if (ossl !== undefined) list.push(ossl);
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
