/**
 * The device-side subcommands: `install FILE|URL`, `status`, `mark-good`, `rollback`, `boot`
 * (the start decision, run by init before the daemon) and `health` (run once the daemon is up).
 * @module
 */

import { join } from "node:path";
import { bootStart, markGood, rollback } from "../boot.ts";
import { daemonHealthChecks } from "../daemon_health.ts";
import { defaultTarget, readRoots, rootsDir } from "../device.ts";
import { discardPartial, downloadChunks } from "../download.ts";
import { UpdateError } from "../errors.ts";
import { recordHealth, runHealthCheck } from "../health.ts";
import { DEFAULT_MAX_SIZE, DEFAULT_TRIES, fileChunks, installBundle } from "../install.ts";
import { checkSlot, currentSlot } from "../slots.ts";
import { readState, type SlotName } from "../state.ts";
import {
  type CommandIo,
  DEFAULT_STATE_DIR,
  parse,
  positiveInt,
  readText,
  UsageError,
} from "./common.ts";

/** Help of `bundle install`. */
export const INSTALL_HELP =
  `usage: branchgate bundle install [--state DIR] [--allow-downgrade] [--tries N]
         [--max-size BYTES] [--ca CA.pem] [--board NAME] [--arch ARCH] FILE|https://URL

Verifies the bundle (signatures, target, anti-rollback floor, every payload hash) while
writing it to the inactive slot, then switches to it. The new version gets N starts
(default ${DEFAULT_TRIES}) to pass the health check, else the device falls back by itself.
A URL is downloaded over HTTPS; an interrupted download resumes on the next run.`;

/** `bundle install`. */
export async function install(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parse(args, {
    state: { type: "string" },
    "allow-downgrade": { type: "boolean" },
    tries: { type: "string" },
    "max-size": { type: "string" },
    ca: { type: "string" },
    board: { type: "string" },
    arch: { type: "string" },
    product: { type: "string" },
  });
  if (values.help) {
    io.out(INSTALL_HELP);
    return 0;
  }
  const [source, ...extra] = positionals;
  if (source === undefined || extra.length > 0) {
    throw new UsageError("name exactly one FILE or URL");
  }
  const stateDir = values.state ?? DEFAULT_STATE_DIR;
  const maxSize = positiveInt(values["max-size"], "max-size", DEFAULT_MAX_SIZE);
  const tries = positiveInt(values.tries, "tries", DEFAULT_TRIES);
  const d = defaultTarget();
  const target = {
    product: values.product ?? d.product,
    board: values.board ?? d.board,
    arch: values.arch ?? d.arch,
  };
  if (readRoots(rootsDir(stateDir)).length === 0) {
    throw new UpdateError(
      "key",
      `no trusted root key in ${rootsDir(stateDir)} (see 'bundle trust')`,
    );
  }
  const isUrl = /^[a-z]+:\/\//i.test(source);
  const partPath = join(stateDir, "update", "download.part");
  Deno.mkdirSync(join(stateDir, "update"), { recursive: true, mode: 0o700 });
  const chunks = isUrl
    ? downloadChunks(source, {
      partPath,
      maxSize,
      ...(values.ca !== undefined ? { caCerts: [readText(values.ca, "CA certificate")] } : {}),
      onResume: (at) => {
        if (at > 0) io.out(`install: resuming the download at byte ${at}`);
      },
    })
    : fileChunks(source);
  try {
    const r = await installBundle(stateDir, chunks, {
      target,
      now: io.now(),
      maxSize,
      tries,
      allowDowngrade: values["allow-downgrade"] === true,
      progress: (phase) => io.out(`install: ${phase}`),
    });
    if (isUrl) discardPartial(partPath);
    if (r.alreadyRunning) {
      io.out(`version ${r.version} is already installed and current (slot ${r.slot})`);
    } else {
      io.out(
        `installed ${r.version} into slot ${r.slot}` +
          (r.previous !== undefined ? ` (was ${r.previous})` : "") +
          `; it runs from the next start, on trial for ${tries} starts`,
      );
    }
    return 0;
  } catch (err) {
    // A refused bundle is not resumed: the next attempt downloads it afresh.
    if (isUrl && err instanceof UpdateError && err.code !== "download") discardPartial(partPath);
    throw err;
  }
}

function stateArg(args: string[], help: string, io: CommandIo): string | undefined {
  const { values, positionals } = parse(args, { state: { type: "string" } });
  if (values.help) {
    io.out(help);
    return undefined;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  return values.state ?? DEFAULT_STATE_DIR;
}

/** Help of `bundle status`. */
export const STATUS_HELP = `usage: branchgate bundle status [--state DIR]

Shows both slots (version, complete or not), which one is current, which are marked good,
a slot on trial with its starts left, the anti-rollback floor and the last fallback.`;

/** `bundle status`. */
export function status(args: string[], io: CommandIo): number {
  const stateDir = stateArg(args, STATUS_HELP, io);
  if (stateDir === undefined) return 0;
  const state = readState(stateDir);
  const cur = currentSlot(stateDir);
  io.out("slot  current  version     good  note");
  for (const s of ["a", "b"] as SlotName[]) {
    const c = checkSlot(stateDir, s);
    const trial = state.trial?.slot === s
      ? state.trial.failed !== undefined
        ? `trial: health check failed (${state.trial.failed}); falls back at the next start`
        : `on trial, ${state.trial.triesLeft} starts left`
      : "";
    io.out(
      [
        s.padEnd(4),
        (cur === s ? "*" : "").padEnd(7),
        (c.ok ? c.version : "-").padEnd(11),
        (state.good[s] && c.ok ? "yes" : "no").padEnd(4),
        c.ok ? trial : c.reason === "no manifest" ? "empty" : `incomplete: ${c.reason}`,
      ].join("  ").trimEnd(),
    );
  }
  io.out(`anti-rollback floor: ${state.floor}`);
  io.out(`revoked keys: ${state.revoked.length === 0 ? "none" : state.revoked.join(", ")}`);
  const f = state.lastFallback;
  if (f !== undefined) {
    io.out(`last fallback: ${f.time}, slot ${f.from} (${f.version}) -> ${f.to}: ${f.reason}`);
  }
  return 0;
}

/** Help of `bundle mark-good`. */
export const MARK_GOOD_HELP = `usage: branchgate bundle mark-good [--state DIR]

Marks the current slot good by hand (ends its trial, raises the anti-rollback floor).`;

/** `bundle mark-good`. */
export async function markGoodCmd(args: string[], io: CommandIo): Promise<number> {
  const stateDir = stateArg(args, MARK_GOOD_HELP, io);
  if (stateDir === undefined) return 0;
  const r = await markGood(stateDir);
  io.out(`slot ${r.slot} marked good; anti-rollback floor ${r.floor}`);
  return 0;
}

/** Help of `bundle rollback`. */
export const ROLLBACK_HELP = `usage: branchgate bundle rollback [--state DIR]

Switches to the other slot (it must hold a complete version not below the floor); the
config revision saved when leaving it is restored. Restart the daemon to run it.`;

/** `bundle rollback`. */
export async function rollbackCmd(args: string[], io: CommandIo): Promise<number> {
  const stateDir = stateArg(args, ROLLBACK_HELP, io);
  if (stateDir === undefined) return 0;
  const d = await rollback(stateDir, io.now());
  io.out(`rolled back to slot ${d.slot} (${d.version}); restart the daemon to run it`);
  return 0;
}

/** Help of `bundle boot`. */
export const BOOT_HELP = `usage: branchgate bundle boot [--state DIR]

The start decision, for the init sequence before 'branchgate run': spends one try of a slot
on trial, or falls back to the previous slot (recording why) when the tries are used up or
the last health check failed. Prints the slot to run.`;

/** `bundle boot`. */
export async function bootCmd(args: string[], io: CommandIo): Promise<number> {
  const stateDir = stateArg(args, BOOT_HELP, io);
  if (stateDir === undefined) return 0;
  const d = await bootStart(stateDir, { now: io.now() });
  if (d.fellBack !== undefined) {
    io.err(
      `boot: FELL BACK from slot ${d.fellBack.from} (${d.fellBack.version}): ${d.fellBack.reason}`,
    );
  }
  io.out(
    `boot: slot ${d.slot} (${d.version ?? "no manifest"})` +
      (d.triesLeft !== undefined ? `, on trial, ${d.triesLeft} starts left` : ""),
  );
  return 0;
}

/** Help of `bundle health`. */
export const HEALTH_HELP = `usage: branchgate bundle health [--state DIR] [--timeout SECONDS]

Runs the health check against the running daemon: crypto self-test, the config store's
running revision loads, every configured peer's tunnel up within --timeout (default 120).
Passing marks the current slot good; failing makes the next start fall back.`;

/** `bundle health`. */
export async function healthCmd(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parse(args, {
    state: { type: "string" },
    timeout: { type: "string" },
  });
  if (values.help) {
    io.out(HEALTH_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const stateDir = values.state ?? DEFAULT_STATE_DIR;
  const timeoutMs = positiveInt(values.timeout, "timeout", 120) * 1000;
  const r = await runHealthCheck(daemonHealthChecks(stateDir), { timeoutMs, pollMs: 2000 });
  const done = await recordHealth(stateDir, r);
  if (r.ok) io.out(`health: ok; ${done === "marked-good" ? "slot marked good" : done}`);
  else {
    io.err(
      `health: FAILED: ${r.reason}` +
        (done === "will-fall-back" ? "; the next start falls back to the previous slot" : ""),
    );
  }
  return r.ok ? 0 : 1;
}
