/**
 * `branchgate selftest`: every known-answer test on every available backend, and the backend
 * chosen per algorithm. Exits 1 when an algorithm has no passing backend.
 * @module
 */

import { getCrypto } from "../crypto/registry.ts";

/** Runs the self-test and prints the table; returns the exit code. */
export function run(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(
      "usage: branchgate selftest\n\nRuns the crypto known-answer tests on every backend.",
    );
    return Promise.resolve(0);
  }
  const registry = getCrypto();
  const names = registry.backends.map((b) => b.name);
  console.log(["algorithm".padEnd(24), ...names.map((n) => n.padEnd(10)), "chosen"].join(" "));
  let missing = 0;
  for (const row of registry.report()) {
    const cells = row.results.map(([, r]) => r.padEnd(10));
    console.log([row.alg.padEnd(24), ...cells, row.chosen ?? "NONE"].join(" "));
    if (row.chosen === undefined) missing++;
  }
  console.log(missing === 0 ? "selftest: ok" : `selftest: ${missing} algorithm(s) unavailable`);
  return Promise.resolve(missing === 0 ? 0 : 1);
}
