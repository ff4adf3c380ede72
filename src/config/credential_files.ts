/**
 * Early checks of an `auth = "pubkey"` peer's files (`cert`, `key`, `ca`, `crl`) at config load:
 * each exists and is a regular file, and the private key is not readable by group or others.
 * Parsing the certificates is left to the PKI layer, loaded only when a peer uses pubkey.
 * @module
 */

import { isAbsolute, join } from "../path.ts";
import type { PeerConfig } from "./schema.ts";

/** `path` taken from `baseDir` when relative. */
export function configPath(path: string, baseDir: string): string {
  return isAbsolute(path) ? path : join(baseDir, path);
}

/** Problems with a pubkey peer's files, as (config key, message) pairs; none for psk peers. */
export function credentialFileIssues(
  peer: PeerConfig,
  baseDir: string,
): { key: string; message: string }[] {
  if (peer.auth !== "pubkey") return [];
  const out: { key: string; message: string }[] = [];
  const files: [string, string | undefined][] = [
    ["cert", peer.cert],
    ["key", peer.key],
    ...(peer.ca ?? []).map((f, j): [string, string] => [`ca[${j}]`, f]),
    ...(peer.crl ?? []).map((f, j): [string, string] => [`crl[${j}]`, f]),
  ];
  for (const [key, file] of files) {
    if (file === undefined) continue;
    const path = configPath(file, baseDir);
    try {
      const st = Deno.statSync(path);
      if (!st.isFile) out.push({ key, message: `${path} is not a file` });
      else if (key === "key" && ((st.mode ?? 0) & 0o077) !== 0) {
        out.push({
          key,
          message: `${path}: private key readable by others (mode ${
            ((st.mode ?? 0) & 0o777).toString(8)
          }); run chmod 600 ${path}`,
        });
      }
    } catch (err) {
      const why = err instanceof Deno.errors.NotFound ? "not found" : "cannot be read";
      out.push({ key, message: `${path} ${why}` });
    }
  }
  return out;
}
