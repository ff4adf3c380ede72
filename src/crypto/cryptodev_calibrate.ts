/**
 * Self-calibration of /dev/crypto offload. At start, after the device's known-answer tests,
 * each algorithm the device offers is timed on the device and on libcrypto at 64 and 1400
 * bytes (a few milliseconds each); with `auto` the device gets only the algorithms, and the
 * range of sizes, where it is faster. `cryptodev` gives it every size of every algorithm whose
 * known-answer test passed; `off` never opens the device.
 * @module
 */

import { type KatResult, runKat } from "./kat.ts";
import { type CryptodevBackend, openCryptodevBackend } from "./cryptodev.ts";
import { createOffloadBackend, newRoute, type OffloadRoute } from "./cryptodev_offload.ts";
import type { AeadAlg, AlgorithmName, CipherAlg, CryptoBackend, MacAlg } from "./types.ts";

/** `[gateway] crypto_offload`. */
export type OffloadMode = "auto" | "cryptodev" | "off";

/** How to set up offload (`[gateway] crypto_offload` and `crypto_device`). */
export interface OffloadOptions {
  /** auto (default): calibrate; cryptodev: force; off: never open the device. */
  readonly mode: OffloadMode;
  /** The device path (default /dev/crypto). */
  readonly device: string;
  /**
   * The library providing the device's open/ioctl/close (tests: the fake device); default
   * BRANCHGATE_CRYPTODEV_LIB, else libc.
   */
  readonly library?: string;
}

/** The default: calibrate against /dev/crypto when there is one. */
export const DEFAULT_OFFLOAD: OffloadOptions = { mode: "auto", device: "/dev/crypto" };

/** The two packet sizes timed (a small packet and a full-size one under a 1400 MTU). */
export const CALIBRATION_SIZES = [64, 1400] as const;

/** One algorithm's calibration. */
export interface CalibrationRow {
  /** The algorithm. */
  readonly alg: AlgorithmName;
  /** Its known-answer test on the device. */
  readonly kat: KatResult;
  /** The kernel driver of the device's session ("" unknown). */
  readonly driver: string;
  /** SIOP_FLAG_KERNEL_DRIVER_ONLY: a hardware engine. */
  readonly hardware: boolean;
  /** Nanoseconds per operation on the device at CALIBRATION_SIZES (undefined: not timed). */
  readonly deviceNs: readonly number[] | undefined;
  /** Nanoseconds per operation on libcrypto at CALIBRATION_SIZES. */
  readonly softwareNs: readonly number[] | undefined;
  /** The device range chosen, or undefined when the device does not serve this algorithm. */
  readonly range: { readonly min: number; readonly max: number } | undefined;
}

/** What offload set-up found, for `selftest` and `show crypto`. */
export interface OffloadStatus {
  /** The configured mode and device. */
  readonly options: OffloadOptions;
  /** Why the device is not used at all (cannot be opened, mode off), if so. */
  readonly error: string | undefined;
  /** Per offered algorithm: KAT, timings, decision. */
  readonly rows: readonly CalibrationRow[];
  /** Live routes (op counts, failures), per algorithm the device serves. */
  readonly routes: ReadonlyMap<AlgorithmName, OffloadRoute>;
}

/** Milliseconds, as `performance.now()` gives them (injectable for tests). */
export type Clock = () => number;

/** Runs one operation of `size` bytes on a fresh context of `b`; returns the timing loop. */
function operation(b: CryptoBackend, alg: AlgorithmName, size: number): (() => void) | undefined {
  const [kind, name] = alg.split(":") as [string, string];
  const key = new Uint8Array(64).fill(0x5a);
  if (kind === "aead") {
    const ctx = b.aead(name as AeadAlg, key.subarray(0, name === "aes128gcm16" ? 16 : 32));
    if (ctx === undefined) return undefined;
    const buf = new Uint8Array(size + 16);
    const nonce = new Uint8Array(12);
    const aad = new Uint8Array(8);
    return Object.assign(() => ctx.seal(nonce, aad, buf, 0, size), { ctx });
  }
  if (kind === "cipher") {
    const len = { aes128cbc: 16, aes192cbc: 24, aes256cbc: 32, "3descbc": 24 }[name as CipherAlg];
    const ctx = b.cipher(name as CipherAlg, key.subarray(0, len));
    if (ctx === undefined) return undefined;
    const n = Math.ceil(size / 16) * 16;
    const buf = new Uint8Array(n);
    const iv = new Uint8Array(16);
    return Object.assign(() => ctx.encrypt(iv, buf, 0, n), { ctx });
  }
  if (kind === "mac") {
    const len = { "hmac-sha1-96": 20, "hmac-sha256-128": 32, "hmac-sha384-192": 48 }[
      name as "hmac-sha1-96"
    ] ?? 64;
    const ctx = b.mac(name as MacAlg, key.subarray(0, len));
    if (ctx === undefined) return undefined;
    const buf = new Uint8Array(size);
    const out = new Uint8Array(32);
    return Object.assign(() => ctx.computeInto(buf, 0, size, out, 0), { ctx });
  }
  return undefined;
}

/**
 * Nanoseconds per operation of `alg` at `size` bytes on `b`: the best of three rounds of at
 * least `budgetMs` (and 4 operations) each, after a warm-up. Undefined when `b` fails.
 */
export function timeOperation(
  b: CryptoBackend,
  alg: AlgorithmName,
  size: number,
  clock: Clock = () => performance.now(),
  budgetMs = 0.5,
): number | undefined {
  let op: ReturnType<typeof operation>;
  try {
    op = operation(b, alg, size);
    if (op === undefined) return undefined;
    for (let i = 0; i < 4; i++) op();
    let best = Infinity;
    for (let round = 0; round < 3; round++) {
      const t0 = clock();
      let n = 0;
      let t = t0;
      while (n < 4 || t - t0 < budgetMs) {
        op();
        n++;
        t = clock();
      }
      best = Math.min(best, ((t - t0) * 1e6) / n);
    }
    return best;
  } catch {
    return undefined;
  } finally {
    (op as { ctx?: { dispose(): void } } | undefined)?.ctx?.dispose();
  }
}

/**
 * How much faster the device must be to be used: a device merely as fast as libcrypto (a
 * software driver behind the ioctl) stays unused, so timing noise does not decide.
 */
export const DEVICE_MARGIN = 1.1;

/**
 * The sizes where the device wins by {@link DEVICE_MARGIN}, from a linear model per backend
 * through the two timed sizes (t = fixed cost + per-byte cost): all, none, from the crossover
 * up, or below it.
 */
export function deviceRange(
  dev: readonly number[],
  sw: readonly number[],
): { min: number; max: number } | undefined {
  const [s0, s1] = CALIBRATION_SIZES;
  const d0 = dev[0]! * DEVICE_MARGIN - sw[0]!;
  const d1 = dev[1]! * DEVICE_MARGIN - sw[1]!;
  if (d0 < 0 && d1 < 0) return { min: 0, max: Infinity };
  if (d0 >= 0 && d1 >= 0) return undefined;
  const cross = Math.ceil(s0 + ((s1 - s0) * d0) / (d0 - d1));
  return d1 < 0 ? { min: cross, max: Infinity } : { min: 0, max: cross };
}

/**
 * Calibrates every algorithm `dev` offers against `sw` (libcrypto): KAT on the device, then
 * (unless forced) timings. Algorithms failing the KAT are never routed to the device.
 */
export function calibrate(
  dev: CryptodevBackend,
  sw: CryptoBackend,
  mode: "auto" | "cryptodev",
  clock?: Clock,
): CalibrationRow[] {
  return dev.offers.map(({ alg, info }) => {
    const driver = "error" in info ? "" : info.cipherDriver || info.macDriver;
    const hardware = !("error" in info) && info.hardware;
    const kat = runKat(dev, alg);
    if (kat !== "pass" || !sw.supports(alg)) {
      return {
        alg,
        kat,
        driver,
        hardware,
        deviceNs: undefined,
        softwareNs: undefined,
        range: undefined,
      };
    }
    const time = (b: CryptoBackend) => {
      const t = CALIBRATION_SIZES.map((n) => timeOperation(b, alg, n, clock));
      return t.every((x) => x !== undefined) ? t as number[] : undefined;
    };
    const deviceNs = time(dev);
    const softwareNs = time(sw);
    const range = mode === "cryptodev"
      ? { min: 0, max: Infinity }
      : deviceNs === undefined || softwareNs === undefined
      ? undefined
      : deviceRange(deviceNs, softwareNs);
    return { alg, kat, driver, hardware, deviceNs, softwareNs, range };
  });
}

/**
 * Sets offload up: opens the device, calibrates against `sw` and returns the offload backend
 * (undefined when the device serves nothing) with the status for `show crypto`.
 */
export function setUpOffload(
  opts: OffloadOptions,
  sw: CryptoBackend | undefined,
  clock?: Clock,
): { backend: CryptoBackend | undefined; status: OffloadStatus } {
  const status = (error: string | undefined, rows: CalibrationRow[] = [], routes = new Map()) => ({
    options: opts,
    error,
    rows,
    routes,
  });
  if (opts.mode === "off") return { backend: undefined, status: status("offload off") };
  if (sw === undefined) {
    return { backend: undefined, status: status("libcrypto missing: nothing to pair with") };
  }
  let dev: CryptodevBackend;
  try {
    dev = openCryptodevBackend(opts.device, opts.library);
  } catch (e) {
    return { backend: undefined, status: status(e instanceof Error ? e.message : String(e)) };
  }
  const rows = calibrate(dev, sw, opts.mode, clock);
  const routes = new Map<AlgorithmName, OffloadRoute>();
  for (const r of rows) {
    if (r.range !== undefined) routes.set(r.alg, newRoute(r.alg, r.range.min, r.range.max));
  }
  if (routes.size === 0) {
    dev.close();
    return { backend: undefined, status: status(undefined, rows, routes) };
  }
  return {
    backend: createOffloadBackend(dev, sw, routes),
    status: status(undefined, rows, routes),
  };
}
