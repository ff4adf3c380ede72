/**
 * `branchgate bundle …`: signed update bundles. Release host: keygen, create, sign, verify.
 * Device: trust, install FILE|URL, status, mark-good, rollback, boot, health. Every refusal is
 * one line on stderr and exit status 1; a usage mistake exits 2.
 * @module
 */

import { create, signCmd } from "../update/commands/build_cmd.ts";
import { type CommandIo, CONSOLE_IO, UsageError } from "../update/commands/common.ts";
import {
  bootCmd,
  healthCmd,
  install,
  markGoodCmd,
  rollbackCmd,
  status,
} from "../update/commands/device_cmd.ts";
import { keygen, trust } from "../update/commands/keys_cmd.ts";
import { verifyCmd } from "../update/commands/verify_cmd.ts";
import { UpdateError } from "../update/errors.ts";

type Sub = (args: string[], io: CommandIo) => number | Promise<number>;

const SUBS: Record<string, readonly [Sub, string]> = {
  keygen: [keygen, "create a root or release key (release keys certified by a root)"],
  create: [create, "build a bundle from directories/files and a version"],
  sign: [signCmd, "add a release key's signature"],
  verify: [verifyCmd, "verify a bundle; print its manifest and signers"],
  trust: [trust, "install root public keys on this device"],
  install: [install, "install FILE or https URL into the inactive slot"],
  status: [status, "slots, versions, current, good, trial, floor"],
  "mark-good": [markGoodCmd, "mark the current slot good"],
  rollback: [rollbackCmd, "switch to the other slot"],
  boot: [bootCmd, "start decision for init: trial try or automatic fallback"],
  health: [healthCmd, "health check against the running daemon; marks good or fails"],
};

/** The usage text. */
export function usage(): string {
  const lines = ["usage: branchgate bundle <command> [options]", "", "commands:"];
  for (const [name, [, summary]] of Object.entries(SUBS)) {
    lines.push(`  ${name.padEnd(10)} ${summary}`);
  }
  lines.push("", "Run `branchgate bundle <command> --help` for its options.");
  return lines.join("\n");
}

/** Runs `bundle` with `args`; returns the exit status. */
export async function runBundle(args: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  const sub = SUBS[name];
  if (sub === undefined) {
    io.err(`branchgate bundle: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await sub[0](rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`branchgate bundle ${name}: ${err.message} (see --help)`);
      return 2;
    }
    if (err instanceof UpdateError) {
      io.err(`branchgate bundle ${name}: refused: ${err.message}`);
      return 1;
    }
    const why = err instanceof Deno.errors.PermissionDenied
      ? `permission denied: ${err.message}`
      : err instanceof Error
      ? err.message
      : String(err);
    io.err(`branchgate bundle ${name}: ${why}`);
    return 1;
  }
}

/** Entry point from `src/main.ts`. */
export function run(args: string[]): Promise<number> {
  return runBundle(args, CONSOLE_IO);
}
