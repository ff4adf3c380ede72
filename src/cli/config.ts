/**
 * `branchgate config` (being built; see the issue tracker).
 * @module
 */

/** Runs the subcommand; returns the exit code. */
export function run(_args: string[]): Promise<number> {
  console.error("branchgate config: not built yet");
  return Promise.resolve(1);
}
