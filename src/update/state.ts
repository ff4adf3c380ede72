/**
 * The device's update state, `<stateDir>/update/state.json`, replaced atomically (temporary,
 * fsync, rename, fsync of the directory):
 * - `floor`: the anti-rollback floor (semver); it only rises.
 * - `revoked`: revoked key ids; the list only grows.
 * - `good`: per slot, whether the version in it passed a health check.
 * - `trial`: the slot on trial after an install (try-boot counter, the slot to fall back to).
 * - `lastFallback`: when and why the device last fell back to the other slot.
 *
 * Writes go through {@link mergeState}, which keeps the floor and the revocation list
 * monotonic whatever the caller passes.
 * @module
 */

import { join } from "node:path";
import { writeFileAtomic } from "../config/atomic.ts";
import { UpdateError } from "./errors.ts";
import { fromHex } from "./hex.ts";
import { compareVersions, parseSemVer } from "./semver.ts";

/** A slot name. */
export type SlotName = "a" | "b";

/** The other slot. */
export function otherSlot(s: SlotName): SlotName {
  return s === "a" ? "b" : "a";
}

/** A slot on trial. */
export interface Trial {
  readonly slot: SlotName;
  readonly version: string;
  /** Starts left before the device falls back by itself. */
  readonly triesLeft: number;
  /** Set when a health check failed: the next start falls back. */
  readonly failed?: string;
  readonly installedAt: string;
}

/** A recorded fallback. */
export interface Fallback {
  readonly time: string;
  readonly from: SlotName;
  readonly to: SlotName;
  readonly version: string;
  readonly reason: string;
}

/** The whole state. */
export interface UpdateState {
  readonly floor: string;
  readonly revoked: readonly string[];
  readonly good: { readonly a: boolean; readonly b: boolean };
  readonly trial?: Trial;
  readonly lastFallback?: Fallback;
}

/** The state of a device that never installed a bundle. */
export const INITIAL_STATE: UpdateState = {
  floor: "0.0.0",
  revoked: [],
  good: { a: true, b: false },
};

/** Path of the state file. */
export function statePath(stateDir: string): string {
  return join(stateDir, "update", "state.json");
}

function isSlot(v: unknown): v is SlotName {
  return v === "a" || v === "b";
}

function parseTrial(v: unknown): Trial | undefined {
  if (v === undefined || v === null) return undefined;
  const t = v as Record<string, unknown>;
  if (
    typeof v !== "object" || !isSlot(t.slot) || typeof t.version !== "string" ||
    typeof t.triesLeft !== "number" || !Number.isSafeInteger(t.triesLeft) ||
    typeof t.installedAt !== "string" || (t.failed !== undefined && typeof t.failed !== "string")
  ) {
    throw new UpdateError("state", "update state: bad trial record");
  }
  return {
    slot: t.slot,
    version: t.version,
    triesLeft: t.triesLeft,
    installedAt: t.installedAt,
    ...(typeof t.failed === "string" ? { failed: t.failed } : {}),
  };
}

function parseFallback(v: unknown): Fallback | undefined {
  if (v === undefined || v === null) return undefined;
  const f = v as Record<string, unknown>;
  if (
    typeof v !== "object" || !isSlot(f.from) || !isSlot(f.to) || typeof f.time !== "string" ||
    typeof f.version !== "string" || typeof f.reason !== "string"
  ) {
    throw new UpdateError("state", "update state: bad fallback record");
  }
  return { time: f.time, from: f.from, to: f.to, version: f.version, reason: f.reason };
}

/** Parses the state file's text. */
export function parseState(text: string): UpdateState {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new UpdateError("state", "update state: not JSON");
  }
  const o = (j !== null && typeof j === "object" ? j : {}) as Record<string, unknown>;
  if (parseSemVer(o.floor) === undefined) throw new UpdateError("state", "update state: bad floor");
  const revoked = o.revoked;
  if (!Array.isArray(revoked) || !revoked.every((id) => fromHex(id, 16) !== undefined)) {
    throw new UpdateError("state", "update state: bad revocation list");
  }
  const good = o.good as Record<string, unknown> | undefined;
  if (typeof good?.a !== "boolean" || typeof good.b !== "boolean") {
    throw new UpdateError("state", "update state: bad good flags");
  }
  const trial = parseTrial(o.trial);
  const lastFallback = parseFallback(o.lastFallback);
  return {
    floor: o.floor as string,
    revoked: revoked as string[],
    good: { a: good.a, b: good.b },
    ...(trial !== undefined ? { trial } : {}),
    ...(lastFallback !== undefined ? { lastFallback } : {}),
  };
}

/** Reads the state ({@link INITIAL_STATE} when there is none yet). */
export function readState(stateDir: string): UpdateState {
  let text: string;
  try {
    text = Deno.readTextFileSync(statePath(stateDir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return INITIAL_STATE;
    throw new UpdateError("state", `update state: ${err instanceof Error ? err.message : err}`);
  }
  return parseState(text);
}

/** `next` with the floor never below `prev.floor` and every revoked id of `prev` kept. */
export function mergeState(prev: UpdateState, next: UpdateState): UpdateState {
  const floor = compareVersions(next.floor, prev.floor) < 0 ? prev.floor : next.floor;
  const revoked = [...new Set([...prev.revoked, ...next.revoked])].sort();
  return { ...next, floor, revoked };
}

/** Durably writes `next` (merged with the state on disk so nothing monotonic goes back). */
export function writeState(stateDir: string, next: UpdateState): UpdateState {
  const merged = mergeState(readState(stateDir), next);
  Deno.mkdirSync(join(stateDir, "update"), { recursive: true, mode: 0o700 });
  const text = JSON.stringify(merged, null, 2) + "\n";
  writeFileAtomic(statePath(stateDir), new TextEncoder().encode(text), 0o644);
  return merged;
}

/** `s` without its trial record. */
export function withoutTrial(s: UpdateState): UpdateState {
  const { trial: _t, ...rest } = s;
  return rest;
}
