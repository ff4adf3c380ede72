/** The flag parser of `branchgate run`: values, aliases, and each kind of mistake named. */

import assert from "node:assert/strict";
import { parseFlags } from "../../../src/cli/flags.ts";

const SPEC = {
  config: { type: "string" },
  "no-tun": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

Deno.test("flags: --name VALUE, --name=VALUE, booleans and aliases", () => {
  assert.deepEqual(parseFlags(["--config", "a b.toml", "--no-tun"], SPEC), {
    config: "a b.toml",
    "no-tun": true,
  });
  assert.deepEqual(parseFlags(["--config=x=y"], SPEC), { config: "x=y" });
  assert.deepEqual(parseFlags(["-h"], SPEC), { help: true });
  assert.deepEqual(parseFlags([], SPEC), {});
});

Deno.test("flags: unknown options, missing values and positionals are refused", () => {
  assert.throws(() => parseFlags(["--bogus"], SPEC), /unknown option '--bogus'/);
  assert.throws(() => parseFlags(["-x"], SPEC), /unknown option '-x'/);
  assert.throws(() => parseFlags(["--config"], SPEC), /needs a value/);
  assert.throws(() => parseFlags(["--no-tun=1"], SPEC), /takes no value/);
  assert.throws(() => parseFlags(["file.toml"], SPEC), /unexpected argument/);
  assert.throws(() => parseFlags(["--toString"], SPEC), /unknown option/);
});
