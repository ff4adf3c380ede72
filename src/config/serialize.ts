/**
 * Raw config tree → TOML text, keys in schema order (so revisions, `show` and `compare` are
 * stable), optionally with secrets masked for display.
 * @module
 */

import { stringify } from "smol-toml";
import { GatewaySchema, PeerSchema } from "./schema.ts";
import type { RawTree } from "./parse.ts";
import { MASK } from "../log.ts";
import { isSecretKey } from "./schema_info.ts";

/** `obj`'s keys ordered as `order`, unknown keys after them in their own order. */
function ordered(obj: Record<string, unknown>, order: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of order) if (k in obj && obj[k] !== undefined) out[k] = obj[k];
  for (const [k, val] of Object.entries(obj)) if (!(k in out) && val !== undefined) out[k] = val;
  return out;
}

function isTable(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

function maskPeer(peer: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(peer)) out[k] = isSecretKey(k) ? MASK : val;
  return out;
}

/** The tree in canonical order; with `mask`, secrets replaced by {@link MASK}. */
export function canonicalTree(raw: RawTree, mask = false): RawTree {
  const out: RawTree = {};
  const gateway = raw["gateway"];
  if (isTable(gateway)) out["gateway"] = ordered(gateway, Object.keys(GatewaySchema.entries));
  const peers = raw["peer"];
  if (Array.isArray(peers)) {
    out["peer"] = peers.map((p) => {
      if (!isTable(p)) return p;
      const o = ordered(p, Object.keys(PeerSchema.entries));
      return mask ? maskPeer(o) : o;
    });
  }
  for (const [k, val] of Object.entries(raw)) if (!(k in out)) out[k] = val;
  return out;
}

/** TOML text of the tree (canonical order), ending in a newline. */
export function toToml(raw: RawTree, mask = false): string {
  const text = stringify(canonicalTree(raw, mask)).trim();
  return text === "" ? "" : text + "\n";
}
