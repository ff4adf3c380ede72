/**
 * The A/B slot layout under a state directory (the image layout): `slots/a`, `slots/b` and a
 * relative symlink `current -> slots/<x>`, switched by renaming a new symlink over it and
 * fsyncing the directory, so after a crash it names one slot or the other, never neither.
 * Each installed slot keeps the signed manifest bytes in `.bundle/manifest.json`.
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { join } from "node:path";
import { syncDir } from "../config/atomic.ts";
import { UpdateError } from "./errors.ts";
import { toHex } from "./hex.ts";
import { type Manifest, parseManifest, RESERVED } from "./manifest.ts";
import type { SlotName } from "./state.ts";

/** Path of a slot. */
export function slotDir(stateDir: string, slot: SlotName): string {
  return join(stateDir, "slots", slot);
}

/** Name of the manifest copy inside a slot, relative to the slot. */
export const SLOT_MANIFEST = `${RESERVED}/manifest.json`;

/** Path of the manifest copy inside a slot. */
export function slotManifestPath(dir: string): string {
  return join(dir, SLOT_MANIFEST);
}

/** The slot `current` points to, or undefined when there is no `current` link yet. */
export function currentSlot(stateDir: string): SlotName | undefined {
  let target: string;
  try {
    target = Deno.readLinkSync(join(stateDir, "current"));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  const m = /^(?:\.\/)?slots\/(a|b)\/?$/.exec(target);
  if (m === null) throw new UpdateError("state", `current points to ${target}, not a slot`);
  return m[1] as SlotName;
}

/** Atomically points `current` at `slot` (durable when this returns). */
export function switchCurrent(stateDir: string, slot: SlotName): void {
  const tmp = join(stateDir, `.current.${Deno.pid}`);
  // Links a killed switch left behind (any pid) and a stale one of ours.
  for (const e of Deno.readDirSync(stateDir)) {
    if (e.name.startsWith(".current.")) Deno.removeSync(join(stateDir, e.name));
  }
  Deno.symlinkSync(`slots/${slot}`, tmp);
  Deno.renameSync(tmp, join(stateDir, "current"));
  syncDir(stateDir);
}

/** The manifest of the version installed in `slot`, or undefined for an empty slot. */
export function slotManifest(stateDir: string, slot: SlotName): Manifest | undefined {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(slotManifestPath(slotDir(stateDir, slot)));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  return parseManifest(bytes);
}

/** Hex SHA-256 of a file read in chunks; undefined when it is missing or not `size` bytes. */
function fileSha256(path: string, size: number): string | undefined {
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(path, { read: true });
  } catch {
    return undefined;
  }
  try {
    const h = sha256.create();
    const buf = new Uint8Array(64 * 1024);
    let total = 0;
    for (;;) {
      const n = f.readSync(buf);
      if (n === null) break;
      total += n;
      if (total > size) return "size mismatch";
      h.update(buf.subarray(0, n));
    }
    return total === size ? toHex(h.digest()) : "size mismatch";
  } finally {
    f.close();
  }
}

/**
 * Checks that `slot` holds exactly one complete version: its manifest and every payload with
 * the listed size and SHA-256. Returns the version, or a reason it is not complete.
 */
export function checkSlot(
  stateDir: string,
  slot: SlotName,
): { ok: true; version: string } | { ok: false; reason: string } {
  const dir = slotDir(stateDir, slot);
  let m: Manifest | undefined;
  try {
    m = slotManifest(stateDir, slot);
  } catch (err) {
    return { ok: false, reason: `manifest: ${err instanceof Error ? err.message : err}` };
  }
  if (m === undefined) return { ok: false, reason: "no manifest" };
  for (const p of m.payloads) {
    const digest = fileSha256(join(dir, p.name), p.size);
    if (digest === undefined) return { ok: false, reason: `${p.name} missing` };
    if (digest !== p.sha256) return { ok: false, reason: `${p.name} does not match the manifest` };
  }
  return { ok: true, version: m.version };
}

/** File of a factory image slot naming its version (`make image` writes it into slot a). */
export const FACTORY_VERSION_FILE = "VERSION";

/** The version a factory image slot declares in {@link FACTORY_VERSION_FILE}, if valid. */
export function factoryVersion(stateDir: string, slot: SlotName): string | undefined {
  try {
    const text = Deno.readTextFileSync(join(slotDir(stateDir, slot), FACTORY_VERSION_FILE)).trim();
    return /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the device can run `slot`: a complete installed version, or a factory image (files
 * but no manifest, as `make image` lays out slot a, its version in {@link FACTORY_VERSION_FILE}).
 * Returns the version when known.
 */
export function usableSlot(
  stateDir: string,
  slot: SlotName,
): { ok: true; version: string | undefined } | { ok: false; reason: string } {
  const c = checkSlot(stateDir, slot);
  if (c.ok || c.reason !== "no manifest") return c;
  try {
    for (const _ of Deno.readDirSync(slotDir(stateDir, slot))) {
      return { ok: true, version: factoryVersion(stateDir, slot) };
    }
  } catch {
    // no such directory
  }
  return { ok: false, reason: "empty" };
}
