/**
 * `branchgate selftest`: prints the crypto self-test (src/crypto/selftest.ts) — every
 * known-answer test on every available backend, the backend chosen per algorithm, and the
 * /dev/crypto offload calibration. Exits 1 when an algorithm needed by default has no passing
 * backend; legacy-only algorithms are reported but do not fail the run.
 * @module
 */

import { initCrypto } from "../crypto/registry.ts";
import { selftest } from "../crypto/selftest.ts";
import type { OffloadMode } from "../crypto/cryptodev_calibrate.ts";

const USAGE = `usage: branchgate selftest [--device PATH] [--offload auto|cryptodev|off]

Runs the crypto known-answer tests on every backend and calibrates /dev/crypto offload
(default: auto, /dev/crypto), as the daemon does at start.`;

/** Runs the self-test and prints the table; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  let device = "/dev/crypto";
  let mode: OffloadMode = "auto";
  for (let i = 0; i < args.length; i += 2) {
    const v = args[i + 1];
    if (args[i] === "--device" && v !== undefined && v !== "") device = v;
    else if (args[i] === "--offload" && (v === "auto" || v === "cryptodev" || v === "off")) {
      mode = v;
    } else {
      console.error(USAGE);
      return 2;
    }
  }
  const registry = await initCrypto({ allBackends: true, offload: { mode, device } });
  const { lines, missing } = selftest(registry);
  if (!registry.backends.some((b) => b.name === "libcrypto")) {
    lines[lines.length - 1] += " (libcrypto not found: software backend only)";
  }
  console.log(lines.join("\n"));
  return missing.length === 0 ? 0 : 1;
}
