/**
 * `branchgate selftest`: every known-answer test on every available backend, and the backend
 * chosen per algorithm. Exits 1 when an algorithm needed by default has no passing backend;
 * legacy-only algorithms (LEGACY_ALGORITHMS) are reported but do not fail the run.
 * @module
 */

import { type CryptoRegistry, initCrypto, LEGACY_ALGORITHMS } from "../crypto/registry.ts";
import type { AlgorithmName } from "../crypto/types.ts";

/** The printed table and the default-needed algorithms that no backend serves. */
export interface SelftestOutcome {
  /** Lines of the table, header first, summary last. */
  readonly lines: string[];
  /** Algorithms needed by default that have no passing backend (non-empty: exit 1). */
  readonly missing: AlgorithmName[];
}

/** Runs every KAT of `registry` and formats the table. */
export function selftest(registry: CryptoRegistry): SelftestOutcome {
  const names = registry.backends.map((b) => b.name);
  const lines = [["algorithm".padEnd(24), ...names.map((n) => n.padEnd(10)), "chosen"].join(" ")];
  const missing: AlgorithmName[] = [];
  let legacyMissing = 0;
  for (const row of registry.report()) {
    const cells = row.results.map(([, r]) => r.padEnd(10));
    const legacy = LEGACY_ALGORITHMS.has(row.alg);
    const chosen = row.chosen ?? (legacy ? "NONE (legacy only)" : "NONE");
    lines.push([row.alg.padEnd(24), ...cells, chosen].join(" "));
    if (row.chosen === undefined && legacy) legacyMissing++;
    else if (row.chosen === undefined) missing.push(row.alg);
  }
  lines.push(
    missing.length > 0
      ? `selftest: FAILED, no passing backend for ${missing.join(", ")}`
      : legacyMissing > 0
      ? `selftest: ok (${legacyMissing} legacy-only algorithm(s) unavailable)`
      : "selftest: ok",
  );
  return { lines, missing };
}

/** Runs the self-test and prints the table; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(
      "usage: branchgate selftest\n\nRuns the crypto known-answer tests on every backend.",
    );
    return 0;
  }
  const registry = await initCrypto({ allBackends: true });
  const { lines, missing } = selftest(registry);
  if (!registry.backends.some((b) => b.name === "libcrypto")) {
    lines[lines.length - 1] += " (libcrypto not found: software backend only)";
  }
  console.log(lines.join("\n"));
  return missing.length === 0 ? 0 : 1;
}
