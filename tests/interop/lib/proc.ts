/**
 * Running external commands for the root interop harness: one-shot commands with their output
 * collected, and a typed error naming the command when it fails.
 * @module
 */

/** The outcome of one finished command. */
export interface CommandResult {
  /** Exit code (or 128 + signal number when killed by a signal). */
  readonly code: number;
  /** Standard output as text. */
  readonly stdout: string;
  /** Standard error as text. */
  readonly stderr: string;
}

/** A command that exited non-zero (or could not be started) where success was required. */
export class CommandError extends Error {
  /** The command line, for the message. */
  readonly argv: readonly string[];
  /** What it returned, if it ran at all. */
  readonly result: CommandResult | undefined;

  /** Builds the error; `detail` says why when there is no result. */
  constructor(argv: readonly string[], result: CommandResult | undefined, detail?: string) {
    const why = result === undefined
      ? (detail ?? "could not start")
      : `exit ${result.code}: ${(result.stderr + result.stdout).trim().slice(0, 2000)}`;
    super(`${argv.join(" ")}: ${why}`);
    this.name = "CommandError";
    this.argv = argv;
    this.result = result;
  }
}

/** Options for {@link run}. */
export interface RunOptions {
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
  /** Kill the command (SIGKILL) after this many milliseconds; the result then has code 137. */
  readonly timeoutMs?: number;
}

const decoder = new TextDecoder();

/** Runs `argv` to completion and returns its exit code and output; never throws on exit codes. */
export async function run(
  argv: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new CommandError(argv, undefined, "empty command line");
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      ...(options.env === undefined ? {} : { env: options.env }),
    }).spawn();
  } catch (err) {
    throw new CommandError(argv, undefined, err instanceof Error ? err.message : String(err));
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (options.timeoutMs !== undefined) {
    timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, options.timeoutMs);
  }
  try {
    const out = await child.output();
    return {
      code: out.signal === null ? out.code : 128 + signalNumber(out.signal),
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Runs `argv` and returns its standard output; throws {@link CommandError} unless it exits 0. */
export async function must(argv: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await run(argv, options);
  if (result.code !== 0) throw new CommandError(argv, result);
  return result.stdout;
}

function signalNumber(signal: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGKILL: 9,
    SIGTERM: 15,
  };
  return numbers[signal] ?? 0;
}
