/**
 * The crypto self-test report shared by `branchgate selftest`, the shell's `selftest` and
 * `show crypto`, and the update health check: every known-answer test on every backend, the
 * backend chosen per algorithm, and what /dev/crypto offload found (device, driver, KATs,
 * calibration figures, which backend serves each size, live operation counts and failures).
 * @module
 */

import { type CryptoRegistry, LEGACY_ALGORITHMS } from "./registry.ts";
import type { CalibrationRow, OffloadStatus } from "./cryptodev_calibrate.ts";
import { CALIBRATION_SIZES } from "./cryptodev_calibrate.ts";
import type { AlgorithmName } from "./types.ts";
import type { OffloadRouteView } from "./cryptodev_offload.ts";

/** The report lines and the default-needed algorithms that no backend serves. */
export interface SelftestOutcome {
  /** Lines of the table, header first, summary last. */
  readonly lines: string[];
  /** Algorithms needed by default that have no passing backend (non-empty: exit 1). */
  readonly missing: AlgorithmName[];
}

/** Runs every KAT of `registry` and formats the table, then the offload section. */
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
  if (registry.offload !== undefined) lines.push("", ...offloadLines(registry.offload));
  lines.push(
    missing.length > 0
      ? `selftest: FAILED, no passing backend for ${missing.join(", ")}`
      : legacyMissing > 0
      ? `selftest: ok (${legacyMissing} legacy-only algorithm(s) unavailable)`
      : "selftest: ok",
  );
  return { lines, missing };
}

/**
 * `show crypto`: the /dev/crypto offload section first (device, per-algorithm KAT, calibration
 * figures, which backend serves which sizes, operations so far), then every backend's KAT
 * results and the backend chosen per algorithm.
 */
export function cryptoReport(registry: CryptoRegistry): string[] {
  const { lines } = selftest(registry);
  const split = lines.indexOf("");
  if (split < 0) return lines;
  return [...lines.slice(split + 1, -1), "", ...lines.slice(0, split), lines[lines.length - 1]!];
}

/** The data path's offload counters (from its Worker): device and libcrypto operations. */
export function dataPathOffloadLines(routes: readonly OffloadRouteView[]): string[] {
  if (routes.length === 0) return ["data path (ESP): nothing on /dev/crypto"];
  return [
    "data path (ESP) on /dev/crypto:",
    ...routes.map((r) =>
      `  ${r.alg.padEnd(22)} device ${r.deviceOps}, libcrypto ${r.softwareOps}` +
      (r.failed !== undefined ? ` (device dropped: ${r.failed})` : "")
    ),
  ];
}

function us(ns: number | undefined): string {
  return ns === undefined ? "-" : (ns / 1000).toFixed(2);
}

/** Which backend serves `row`'s algorithm, by size. */
function servedBy(row: CalibrationRow, status: OffloadStatus): string {
  const route = status.routes.get(row.alg);
  if (row.kat !== "pass") return `libcrypto (device KAT ${row.kat})`;
  if (route?.failed !== undefined) return `libcrypto (device ${route.failed})`;
  if (row.range === undefined) return "libcrypto (faster at both sizes)";
  const { min, max } = row.range;
  if (min === 0 && max === Infinity) return "cryptodev (all sizes)";
  if (max === Infinity) return `cryptodev >= ${min} B, libcrypto below`;
  return `cryptodev < ${max} B, libcrypto above`;
}

/** The offload section: device, per-algorithm KAT, timings (µs/op) and routing. */
export function offloadLines(status: OffloadStatus): string[] {
  const { mode, device } = status.options;
  const head = `crypto offload: ${mode}, device ${device}`;
  if (status.error !== undefined) return [`${head}: not used (${status.error})`];
  const drivers = [...new Set(status.rows.map((r) => r.driver).filter((d) => d !== ""))];
  const hw = status.rows.some((r) => r.hardware) ? "hardware engine" : "software driver";
  const [a, b] = CALIBRATION_SIZES;
  const lines = [
    `${head}: ${drivers.join(", ") || "no driver name"} (${hw}); µs per operation:`,
    [
      "algorithm".padEnd(22),
      "KAT".padEnd(6),
      `dev@${a}`.padStart(9),
      `lib@${a}`.padStart(9),
      `dev@${b}`.padStart(9),
      `lib@${b}`.padStart(9),
      "  device/lib ops".padEnd(18),
      "served by",
    ].join(" "),
  ];
  for (const r of status.rows) {
    const route = status.routes.get(r.alg);
    const ops = route === undefined ? "-" : `${route.deviceOps}/${route.softwareOps}`;
    lines.push([
      r.alg.padEnd(22),
      r.kat.padEnd(6),
      us(r.deviceNs?.[0]).padStart(9),
      us(r.softwareNs?.[0]).padStart(9),
      us(r.deviceNs?.[1]).padStart(9),
      us(r.softwareNs?.[1]).padStart(9),
      `  ${ops}`.padEnd(18),
      servedBy(r, status),
    ].join(" "));
  }
  return lines;
}
