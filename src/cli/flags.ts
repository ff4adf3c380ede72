/**
 * A small command-line flag parser for `branchgate run` (`--name VALUE`, `--name=VALUE`,
 * boolean `--name`, one-letter aliases, no positionals), so that the resident daemon does not
 * load Deno's Node compatibility layer for `node:util`'s parseArgs.
 * @module
 */

/** One flag: a string taking a value, or a boolean; `short` is its one-letter alias. */
export interface FlagSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
}

/** The flags given: strings for string flags, true for boolean ones. */
export type FlagValues<S extends Record<string, FlagSpec>> = {
  [K in keyof S]?: S[K]["type"] extends "string" ? string : boolean;
};

/** Parses `args` against `spec`; throws an Error naming the first bad argument. */
export function parseFlags<S extends Record<string, FlagSpec>>(
  args: readonly string[],
  spec: S,
): FlagValues<S> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(arg)) {
      name = Object.keys(spec).find((k) => spec[k]!.short === arg[1]);
    } else {
      throw new Error(`unexpected argument '${arg}'`);
    }
    const flag = name === undefined ? undefined : spec[name];
    if (name === undefined || flag === undefined || !Object.hasOwn(spec, name)) {
      throw new Error(`unknown option '${arg}'`);
    }
    if (flag.type === "boolean") {
      if (inline !== undefined) throw new Error(`option '--${name}' takes no value`);
      out[name] = true;
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new Error(`option '--${name} <value>' needs a value`);
    out[name] = value;
  }
  return out as FlagValues<S>;
}
