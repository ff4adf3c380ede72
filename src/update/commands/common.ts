/**
 * Shared pieces of the `branchgate bundle` subcommands: argument parsing that turns every
 * mistake into a one-line usage error, output helpers and the default state directory.
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { DEFAULT_STATE_DIR } from "../../daemon/control_server.ts";
import { UpdateError } from "../errors.ts";

export { DEFAULT_STATE_DIR };

/** A command-line mistake (exit status 2). */
export class UsageError extends Error {
  /** Creates a usage error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What a subcommand prints and returns. */
export interface CommandIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly now: () => Date;
}

/** The real console and clock. */
export const CONSOLE_IO: CommandIo = {
  out: (l) => console.log(l),
  err: (l) => console.error(l),
  now: () => new Date(),
};

/** Parses `args` strictly; unknown options and missing values become a {@link UsageError}. */
export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: T,
) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(
      err instanceof Error ? err.message.split("\n")[0] ?? "bad arguments" : String(err),
    );
  }
}

/** The value of a required option. */
export function required(value: string | undefined, name: string): string {
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

/** A positive integer option. */
export function positiveInt(value: string | undefined, name: string, dflt: number): number {
  if (value === undefined) return dflt;
  if (!/^[0-9]{1,15}$/.test(value) || Number(value) <= 0) {
    throw new UsageError(`--${name} must be a positive integer`);
  }
  return Number(value);
}

/** Reads a text file, turning failures into a clear key error. */
export function readText(path: string, what: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? "no such file"
      : err instanceof Error
      ? err.message
      : String(err);
    throw new UpdateError("key", `${what} ${path}: ${why}`);
  }
}
