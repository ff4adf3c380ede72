/**
 * Pre-shared keys from `psk` or `psk_file`. A key file holds the key on its first line
 * (trailing newline ignored); relative paths are taken from the config file's directory.
 * Errors never carry key material.
 * @module
 */

import { isAbsolute, join } from "../path.ts";
import type { PeerConfig } from "./schema.ts";

/** The outcome of resolving one peer's key. */
export type PskResult =
  | { readonly ok: true; readonly psk: Uint8Array }
  | { readonly ok: false; readonly message: string };

/** Largest key file read (a PSK is text; anything bigger is not a key file). */
const MAX_FILE = 4096;

/** The PSK of `peer` as bytes; `baseDir` anchors a relative `psk_file`. */
export function resolvePsk(peer: PeerConfig, baseDir: string): PskResult {
  if (peer.psk !== undefined) return { ok: true, psk: new TextEncoder().encode(peer.psk) };
  if (peer.psk_file === undefined) return { ok: false, message: "no psk or psk_file" };
  const path = isAbsolute(peer.psk_file) ? peer.psk_file : join(baseDir, peer.psk_file);
  let bytes: Uint8Array;
  try {
    const st = Deno.statSync(path);
    if (!st.isFile) return { ok: false, message: `${path} is not a file` };
    if (st.size > MAX_FILE) return { ok: false, message: `${path} is larger than ${MAX_FILE}B` };
    bytes = Deno.readFileSync(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "not found" : "cannot be read";
    return { ok: false, message: `${path} ${why}` };
  }
  let end = bytes.indexOf(0x0a);
  if (end < 0) end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  const psk = bytes.slice(0, end);
  if (psk.length < 8) return { ok: false, message: `${path}: key shorter than 8 characters` };
  return { ok: true, psk };
}
