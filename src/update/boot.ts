/**
 * What happens at each start, before the daemon runs (`branchgate bundle boot` in the init
 * sequence), and the operator's `mark-good` and `rollback`.
 *
 * A slot on trial gets a bounded number of starts (the try-boot counter). Each start spends one;
 * a start that finds the counter at zero, or a failed health check recorded by the previous run,
 * falls back to the previous slot by itself and records why. Falling back first marks the trial
 * failed (durable), then switches `current`, then clears the trial, so a crash in between repeats
 * the fallback instead of running the failed version as if it were good.
 * @module
 */

import { type ConfigMigration, migrateConfig, restoreConfigFor } from "./config_link.ts";
import { UpdateError } from "./errors.ts";
import { withUpdateLock } from "./lock.ts";
import { compareVersions } from "./semver.ts";
import { currentSlot, factoryVersion, slotManifest, switchCurrent, usableSlot } from "./slots.ts";
import {
  type Fallback,
  otherSlot,
  readState,
  type SlotName,
  type UpdateState,
  withoutTrial,
  writeState,
} from "./state.ts";

/** The outcome of a start. */
export interface BootDecision {
  /** The slot to run. */
  readonly slot: SlotName;
  /** Its version (undefined for a slot without a manifest, e.g. a factory image). */
  readonly version: string | undefined;
  /** Starts left when the slot is on trial. */
  readonly triesLeft?: number;
  /** Set when this start fell back. */
  readonly fellBack?: Fallback;
}

/** Start options. */
export interface BootOptions {
  readonly now: Date;
  /** The running code's config migration, applied on trial starts (new revision). */
  readonly migrate?: ConfigMigration;
}

function versionOf(stateDir: string, slot: SlotName): string | undefined {
  try {
    return slotManifest(stateDir, slot)?.version ?? factoryVersion(stateDir, slot);
  } catch {
    return undefined;
  }
}

/** Falls back from `from` to the other slot, recording `reason` (lock held by the caller). */
function fallBack(
  stateDir: string,
  state: UpdateState,
  from: SlotName,
  reason: string,
  now: Date,
): BootDecision {
  const to = otherSlot(from);
  const target = usableSlot(stateDir, to);
  if (!target.ok) {
    throw new UpdateError("state", `cannot fall back to slot ${to}: ${target.reason}`);
  }
  const trial = state.trial;
  if (trial !== undefined && trial.failed === undefined) {
    state = writeState(stateDir, { ...state, trial: { ...trial, failed: reason } });
  }
  switchCurrent(stateDir, to);
  const fellBack: Fallback = {
    time: now.toISOString(),
    from,
    to,
    version: versionOf(stateDir, from) ?? "unknown",
    reason,
  };
  writeState(stateDir, {
    ...withoutTrial(state),
    good: { ...state.good, [from]: false },
    lastFallback: fellBack,
  });
  restoreConfigFor(stateDir, to, `fallback to slot ${to}`);
  return { slot: to, version: target.version, fellBack };
}

/** Decides which slot this start runs, spending one try of a slot on trial. */
export function bootStart(stateDir: string, o: BootOptions): Promise<BootDecision> {
  return withUpdateLock(stateDir, () => {
    const state = readState(stateDir);
    const active = currentSlot(stateDir);
    if (active === undefined) throw new UpdateError("state", "no installed version (no current)");
    const trial = state.trial;
    if (trial === undefined) return { slot: active, version: versionOf(stateDir, active) };
    if (trial.slot !== active) {
      // An install that stopped before switching, or an operator switch: the trial is void.
      writeState(stateDir, withoutTrial(state));
      return { slot: active, version: versionOf(stateDir, active) };
    }
    if (trial.failed !== undefined) {
      return fallBack(stateDir, state, active, `health check failed: ${trial.failed}`, o.now);
    }
    if (trial.triesLeft <= 0) {
      return fallBack(
        stateDir,
        state,
        active,
        "try-boot limit reached: no health check passed",
        o.now,
      );
    }
    const triesLeft = trial.triesLeft - 1;
    writeState(stateDir, { ...state, trial: { ...trial, triesLeft } });
    if (o.migrate !== undefined) migrateConfig(stateDir, o.migrate, trial.version);
    return { slot: active, version: trial.version, triesLeft };
  });
}

/**
 * Marks the running slot good: ends its trial and raises the anti-rollback floor to its
 * version (and its manifest's minVersion when higher): nothing older than a version that
 * proved good installs again, not even with --allow-downgrade.
 */
export function markGood(stateDir: string): Promise<{ slot: SlotName; floor: string }> {
  return withUpdateLock(stateDir, () => {
    const state = readState(stateDir);
    const active = currentSlot(stateDir);
    if (active === undefined) throw new UpdateError("state", "no installed version (no current)");
    const m = slotManifest(stateDir, active);
    let floor = state.floor;
    for (const v of [m?.minVersion, m?.version ?? factoryVersion(stateDir, active)]) {
      if (v !== undefined && compareVersions(v, floor) > 0) floor = v;
    }
    const trial = state.trial?.slot === active ? undefined : state.trial;
    const next = writeState(stateDir, {
      ...withoutTrial(state),
      floor,
      good: { ...state.good, [active]: true },
      ...(trial !== undefined ? { trial } : {}),
    });
    return { slot: active, floor: next.floor };
  });
}

/** Records a failed health check: the next start falls back. Returns false without a trial. */
export function markFailed(stateDir: string, reason: string): Promise<boolean> {
  return withUpdateLock(stateDir, () => {
    const state = readState(stateDir);
    const active = currentSlot(stateDir);
    const trial = state.trial;
    if (trial === undefined || trial.slot !== active) return false;
    writeState(stateDir, { ...state, trial: { ...trial, failed: reason } });
    return true;
  });
}

/**
 * The operator's rollback: switch to the other slot now (it must hold a complete version that
 * is not below the floor). Takes effect at the next start of the daemon.
 */
export function rollback(stateDir: string, now: Date): Promise<BootDecision> {
  return withUpdateLock(stateDir, () => {
    const state = readState(stateDir);
    const active = currentSlot(stateDir);
    if (active === undefined) throw new UpdateError("state", "no installed version (no current)");
    const to = otherSlot(active);
    const check = usableSlot(stateDir, to);
    if (!check.ok) {
      throw new UpdateError("state", `slot ${to} has no complete version: ${check.reason}`);
    }
    if (check.version === undefined && compareVersions(state.floor, "0.0.0") > 0) {
      throw new UpdateError(
        "downgrade",
        `slot ${to} holds an image of unknown version, floor is ${state.floor}`,
      );
    }
    if (check.version !== undefined && compareVersions(check.version, state.floor) < 0) {
      throw new UpdateError(
        "downgrade",
        `slot ${to} holds ${check.version}, below the anti-rollback floor ${state.floor}`,
      );
    }
    return fallBack(stateDir, state, active, "operator rollback", now);
  });
}
