/**
 * What the device trusts and what it is: root public keys in `<stateDir>/update/roots/*.pub`
 * (placed there when the image is provisioned, or by `bundle trust`), the revocation list from
 * the update state, and the product/board/arch a bundle must be built for.
 * @module
 */

import { join } from "node:path";
import { UpdateError } from "./errors.ts";
import { decodePublicKeyFile, type PublicKeyInfo } from "./keys.ts";
import type { UpdateState } from "./state.ts";
import type { TrustAnchors } from "./trust.ts";

/** What a bundle must be built for. */
export interface DeviceTarget {
  readonly product: string;
  readonly board: string;
  readonly arch: string;
}

/** The default target: product branchgate, board generic, this machine's architecture. */
export function defaultTarget(): DeviceTarget {
  return { product: "branchgate", board: "generic", arch: Deno.build.arch };
}

/** Directory of the device's root public keys. */
export function rootsDir(stateDir: string): string {
  return join(stateDir, "update", "roots");
}

/** Reads every root public key (`*.pub` of role root) in `dir`; other keys are skipped. */
export function readRoots(dir: string): PublicKeyInfo[] {
  const roots: PublicKeyInfo[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw new UpdateError(
      "key",
      `root keys in ${dir}: ${err instanceof Error ? err.message : err}`,
    );
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.isFile || !e.name.endsWith(".pub")) continue;
    const k = decodePublicKeyFile(Deno.readTextFileSync(join(dir, e.name)), e.name);
    if (k.role === "root") roots.push(k); // release keys next to them are not anchors
  }
  return roots;
}

/** The device's trust anchors. */
export function deviceTrust(stateDir: string, state: UpdateState): TrustAnchors {
  return { roots: readRoots(rootsDir(stateDir)), revoked: new Set(state.revoked) };
}
