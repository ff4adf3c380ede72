/**
 * branchgate: the one entry point. `deno task branchgate <command> …`
 *
 * Each subcommand lives in `src/cli/<name>.ts` and is imported only when it runs, so start-up
 * loads no more than the command needs and nothing opens a library at import time.
 * @module
 */

import { VERSION } from "./version.ts";

/** A subcommand: a one-line summary and a loader for its module. */
interface Command {
  readonly summary: string;
  readonly load: () => Promise<{ run(args: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  run: { summary: "run the gateway daemon", load: () => import("./cli/run.ts") },
  shell: {
    summary: "config shell attached to a running daemon",
    load: () => import("./cli/shell.ts"),
  },
  selftest: {
    summary: "run every crypto known-answer test on every backend",
    load: () => import("./cli/selftest.ts"),
  },
  config: {
    summary: "config file tools (config check FILE)",
    load: () => import("./cli/config.ts"),
  },
  bundle: {
    summary: "signed update bundles (keygen, create, sign, verify, install, …)",
    load: () => import("./cli/bundle.ts"),
  },
  pki: {
    summary: "certificates: keygen, csr, show (certificate or CRL)",
    load: () => import("./cli/pki.ts"),
  },
  version: { summary: "print the version", load: () => Promise.resolve({ run: printVersion }) },
};

function printVersion(): Promise<number> {
  console.log(`branchgate ${VERSION}`);
  return Promise.resolve(0);
}

function usage(): string {
  const lines = ["usage: branchgate <command> [options]", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push("", "Run `branchgate <command> --help` for a command's options.");
  return lines.join("\n");
}

/** Dispatches `args` to a subcommand and returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version") return printVersion();
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`branchgate: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    const mod = await command.load();
    return await mod.run(rest);
  } catch (err) {
    console.error(`branchgate ${name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
