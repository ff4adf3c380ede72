/**
 * What a commit changes, on effective values (defaults applied, key files read): which
 * `[gateway]` keys differ and which peers were added, removed, changed or left alone. A commit
 * applies only this: untouched peers keep their SAs.
 * @module
 */

import type { Config, PeerConfig } from "../config/schema.ts";

/** The changes between two configs. */
export interface ConfigChanges {
  /** `[gateway]` keys whose effective value changed. */
  readonly gateway: readonly string[];
  /** Peers only in the new config. */
  readonly added: readonly string[];
  /** Peers only in the old config. */
  readonly removed: readonly string[];
  /** Peers in both whose settings or key changed, with the keys. */
  readonly changed: readonly { readonly name: string; readonly keys: readonly string[] }[];
  /** Peers in both with nothing changed. */
  readonly unchanged: readonly string[];
}

/** Peer name → PSK bytes. */
export type PeerSecrets = ReadonlyMap<string, Uint8Array>;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function changedKeys(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !same(a[k], b[k]));
}

/** The changes from `old` (undefined at start) to `next`. */
export function diffConfigs(
  old: Config | undefined,
  next: Config,
  oldSecrets: PeerSecrets = new Map(),
  nextSecrets: PeerSecrets = new Map(),
): ConfigChanges {
  const gateway = old === undefined ? [] : changedKeys(old.gateway, next.gateway);
  const before = new Map<string, PeerConfig>((old?.peer ?? []).map((p) => [p.name, p]));
  const after = new Map<string, PeerConfig>(next.peer.map((p) => [p.name, p]));
  const added = [...after.keys()].filter((n) => !before.has(n));
  const removed = [...before.keys()].filter((n) => !after.has(n));
  const changed: { name: string; keys: string[] }[] = [];
  const unchanged: string[] = [];
  for (const [name, p] of after) {
    const q = before.get(name);
    if (q === undefined) continue;
    const keys = changedKeys(q, p);
    if (!bytesEqual(oldSecrets.get(name), nextSecrets.get(name)) && !keys.includes("psk")) {
      keys.push("psk");
    }
    if (keys.length > 0) changed.push({ name, keys });
    else unchanged.push(name);
  }
  return { gateway, added, removed, changed, unchanged };
}

/** One line per change, for the commit output and the log. Secret values never appear. */
export function describeChanges(c: ConfigChanges): string[] {
  const out: string[] = [];
  if (c.gateway.length > 0) out.push(`gateway: changed ${c.gateway.join(", ")}`);
  for (const n of c.added) out.push(`peer ${n}: added`);
  for (const n of c.removed) out.push(`peer ${n}: removed (its SAs are deleted)`);
  for (const { name, keys } of c.changed) {
    out.push(`peer ${name}: changed ${keys.join(", ")} (its SAs are renegotiated)`);
  }
  if (c.unchanged.length > 0) out.push(`unchanged, SAs kept: ${c.unchanged.join(", ")}`);
  return out;
}
