/**
 * Keeping the config store (src/config/store.ts) in step with the slots. Before an install
 * switches slots, the running config revision is saved as the one to restore if the device goes
 * back to the slot it leaves (`update/config-<slot>.json`). The new version migrates the config
 * forward on its first start by committing a new revision, so the previous one stays in the
 * store; a fallback or rollback commits the saved text again when it differs.
 * @module
 */

import { join } from "node:path";
import { writeFileAtomic } from "../config/atomic.ts";
import { ConfigStore } from "../config/store.ts";
import { Logger } from "../log.ts";
import type { SlotName } from "./state.ts";

/**
 * Rewrites config text for the running version; must be idempotent (text already in the new
 * form comes back unchanged, so every trial start may call it).
 */
export type ConfigMigration = (text: string) => string;

/** The saved config of a slot. */
interface SavedConfig {
  readonly revision: number;
  readonly text: string;
}

function savedPath(stateDir: string, slot: SlotName): string {
  return join(stateDir, "update", `config-${slot}.json`);
}

function openStore(stateDir: string): ConfigStore | undefined {
  try {
    Deno.statSync(join(stateDir, "config"));
  } catch {
    return undefined;
  }
  return ConfigStore.open(stateDir, Logger.create());
}

/** Saves the running config revision as the one `slot` (the slot being left) runs with. */
export function saveConfigFor(stateDir: string, slot: SlotName): void {
  const rev = openStore(stateDir)?.newest();
  if (rev === undefined) return;
  const saved: SavedConfig = { revision: rev.number, text: rev.text };
  Deno.mkdirSync(join(stateDir, "update"), { recursive: true, mode: 0o700 });
  writeFileAtomic(savedPath(stateDir, slot), new TextEncoder().encode(JSON.stringify(saved)));
}

/**
 * Restores the config saved for `slot` (when going back to it) as a new revision; returns the
 * restored revision number or undefined when nothing had to change.
 */
export function restoreConfigFor(
  stateDir: string,
  slot: SlotName,
  why: string,
): number | undefined {
  let saved: SavedConfig;
  try {
    const j = JSON.parse(Deno.readTextFileSync(savedPath(stateDir, slot))) as Partial<SavedConfig>;
    if (typeof j.text !== "string" || typeof j.revision !== "number") return undefined;
    saved = { revision: j.revision, text: j.text };
  } catch {
    return undefined;
  }
  const store = openStore(stateDir);
  if (store === undefined || store.newest()?.text === saved.text) return undefined;
  return store.commit(saved.text, "update", `${why}: config of revision ${saved.revision}`).number;
}

/** Migrates the running config forward (a new revision; the old one stays). */
export function migrateConfig(
  stateDir: string,
  migrate: ConfigMigration,
  version: string,
): number | undefined {
  const store = openStore(stateDir);
  const rev = store?.newest();
  if (store === undefined || rev === undefined) return undefined;
  const next = migrate(rev.text);
  if (next === rev.text) return undefined;
  return store.commit(next, "update", `migrated for version ${version}`).number;
}
