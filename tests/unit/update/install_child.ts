/**
 * The power-loss test's subprocess: `branchgate bundle ARGS…` through the real CLI entry
 * (`runBundle`), with the clock injected from `BRANCHGATE_TEST_NOW` via the fixture instead of
 * the wall clock, so the test decides validity with the same fixed time as its bundles.
 * @module
 */

import { runBundle } from "../../../src/cli/bundle.ts";
import { CONSOLE_IO } from "../../../src/update/commands/common.ts";
import { NOW } from "./fixture.ts";

if (import.meta.main) {
  Deno.exit(await runBundle(Deno.args, { ...CONSOLE_IO, now: () => NOW }));
}
