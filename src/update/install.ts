/**
 * Installing a bundle into the inactive slot. Phases (each durable before the next):
 * 1. verify: stream the bundle through {@link BundleStream}; after the signatures and target /
 *    anti-rollback checks pass, payloads are written into `slots/.staging` and each one's
 *    SHA-256 is checked; any refusal removes the staging directory, so nothing else changed;
 * 2. stage: fsync every file and directory, write the manifest copy;
 * 3. place: move the old inactive slot aside, rename staging to the inactive slot;
 * 4. record: the state gets the trial (try-boot counter) and the bundle's revocations, and the
 *    running config revision is saved for a return to the old slot;
 * 5. switch: `current` is pointed at the new slot by rename.
 * A crash before 5 leaves `current` on the old, complete slot (and a stale trial, which the next
 * start discards); after 5 on the new, complete slot. Rerunning the install finishes it.
 * @module
 */

import { join } from "node:path";
import { syncDir } from "../config/atomic.ts";
import { saveConfigFor } from "./config_link.ts";
import { type DeviceTarget, deviceTrust } from "./device.ts";
import { UpdateError } from "./errors.ts";
import { withUpdateLock } from "./lock.ts";
import type { Manifest } from "./manifest.ts";
import { compareVersions } from "./semver.ts";
import { currentSlot, SLOT_MANIFEST, slotDir, switchCurrent, usableSlot } from "./slots.ts";
import { removeTree, StagingSink } from "./staging.ts";
import { otherSlot, readState, type SlotName, type UpdateState, writeState } from "./state.ts";
import { BundleStream, type VerifiedBundle } from "./stream.ts";

/** Default try-boot counter: starts the new slot gets before the device falls back. */
export const DEFAULT_TRIES = 3;
/** Default size cap of a bundle (bytes). */
export const DEFAULT_MAX_SIZE = 256 * 1024 * 1024;

/** Install options. */
export interface InstallOptions {
  readonly target: DeviceTarget;
  readonly now: Date;
  readonly maxSize?: number;
  readonly tries?: number;
  /** Allow a version older than the running one (never below the floor). */
  readonly allowDowngrade?: boolean;
  /** Progress lines (phase names), for the CLI. */
  readonly progress?: (phase: string) => void;
}

/** The outcome of an install. */
export interface InstallResult {
  readonly slot: SlotName;
  readonly version: string;
  readonly previous?: string;
  /** True when the running slot already had this version (nothing done). */
  readonly alreadyRunning: boolean;
  readonly bundle: VerifiedBundle;
}

/** Checks a verified manifest against the device: target and anti-rollback. */
export function acceptManifest(
  m: Manifest,
  target: DeviceTarget,
  state: UpdateState,
  running: string | undefined,
  allowDowngrade: boolean,
): void {
  for (const k of ["product", "board", "arch"] as const) {
    if (m[k] !== target[k]) {
      throw new UpdateError("target", `bundle is for ${k} ${m[k]}, this device is ${target[k]}`);
    }
  }
  if (compareVersions(m.version, state.floor) < 0) {
    throw new UpdateError(
      "downgrade",
      `version ${m.version} is below this device's anti-rollback floor ${state.floor}`,
    );
  }
  if (running !== undefined && compareVersions(m.version, running) < 0 && !allowDowngrade) {
    throw new UpdateError(
      "downgrade",
      `version ${m.version} is older than the running ${running} (--allow-downgrade to allow)`,
    );
  }
}

/** Installs a bundle read from `chunks` into the inactive slot of `stateDir`. */
export async function installBundle(
  stateDir: string,
  chunks: AsyncIterable<Uint8Array>,
  o: InstallOptions,
): Promise<InstallResult> {
  const progress = o.progress ?? (() => {});
  return await withUpdateLock(stateDir, async () => {
    Deno.mkdirSync(join(stateDir, "slots"), { recursive: true, mode: 0o755 });
    const state = readState(stateDir);
    const active = currentSlot(stateDir);
    // A factory image counts with the version it declares (an older signed bundle is a
    // downgrade from it too).
    const runningCheck = active === undefined ? undefined : usableSlot(stateDir, active);
    const running = runningCheck?.ok === true ? runningCheck.version : undefined;
    const target: SlotName = active === undefined ? "a" : otherSlot(active);
    const staging = join(stateDir, "slots", ".staging");
    progress("verify");
    let sink: StagingSink | undefined;
    let alreadyRunning = false;
    const stream = new BundleStream({
      trust: deviceTrust(stateDir, state),
      now: o.now,
      maxSize: o.maxSize ?? DEFAULT_MAX_SIZE,
      accept: (m) => {
        acceptManifest(m, o.target, state, running, o.allowDowngrade === true);
        alreadyRunning = running !== undefined && compareVersions(m.version, running) === 0;
        if (!alreadyRunning && active !== undefined && state.trial?.slot === active) {
          // Installing now would overwrite the slot the device falls back to.
          throw new UpdateError(
            "state",
            `slot ${active} (${state.trial.version}) is still on trial: mark it good or roll back first`,
          );
        }
      },
      sink: {
        begin: (e) => {
          if (alreadyRunning) return;
          sink ??= new StagingSink(staging);
          sink.begin(e);
        },
        write: (b) => sink?.write(b),
        end: (e) => sink?.end(e),
      },
    });
    let bundle: VerifiedBundle;
    try {
      for await (const c of chunks) stream.push(c);
      bundle = stream.finish();
    } catch (err) {
      sink?.abort();
      if (sink !== undefined) removeTree(staging);
      throw err;
    }
    const version = bundle.manifest.version;
    if (alreadyRunning && active !== undefined) {
      progress("done");
      return { slot: active, version, previous: version, alreadyRunning: true, bundle };
    }
    const s = sink as StagingSink;
    progress("stage");
    s.extra(SLOT_MANIFEST, bundle.manifestBytes);
    s.syncDirs();
    progress("place");
    const dest = slotDir(stateDir, target);
    const old = join(stateDir, "slots", `.old-${target}`);
    removeTree(old);
    try {
      Deno.renameSync(dest, old);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    Deno.renameSync(staging, dest);
    syncDir(join(stateDir, "slots"));
    removeTree(old);
    progress("record");
    const first = active === undefined;
    if (!first) saveConfigFor(stateDir, active);
    writeState(stateDir, {
      ...state,
      revoked: [...state.revoked, ...bundle.manifest.revokeKeys],
      good: { ...state.good, [target]: first },
      ...(first ? {} : {
        trial: {
          slot: target,
          version,
          triesLeft: o.tries ?? DEFAULT_TRIES,
          installedAt: o.now.toISOString(),
        },
      }),
    });
    progress("switch");
    switchCurrent(stateDir, target);
    progress("done");
    return {
      slot: target,
      version,
      ...(running !== undefined ? { previous: running } : {}),
      alreadyRunning: false,
      bundle,
    };
  });
}

/** The bytes of a file as chunks (one reused buffer: consume each chunk before the next). */
export async function* fileChunks(path: string, size = 64 * 1024): AsyncIterable<Uint8Array> {
  const f = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(size);
    for (;;) {
      const n = await f.read(buf);
      if (n === null) return;
      yield buf.subarray(0, n);
    }
  } finally {
    f.close();
  }
}
