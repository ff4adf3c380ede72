/**
 * The crypto registry: per algorithm, on its first use, runs the known-answer test on the
 * backends in preference order (cryptodev offload > libcrypto > software) and
 * uses the first one that passes; results are cached. An algorithm whose test fails on a backend
 * is never taken from it; one that passes nowhere is unavailable. `report()` runs the rest.
 *
 * The software backend (noble) costs ~20 MiB of memory per isolate once imported, so it is
 * loaded only when needed: {@link initCrypto} imports it when libcrypto is missing or fails a
 * known-answer test of a needed algorithm, or when asked for every backend (`selftest`).
 * @module
 */

import { createOpenSslBackend } from "./openssl.ts";
import { openCryptodevBackend } from "./cryptodev.ts";
import {
  DEFAULT_OFFLOAD,
  type OffloadOptions,
  type OffloadStatus,
  setUpOffload,
} from "./cryptodev_calibrate.ts";
import { type KatResult, runKat } from "./kat.ts";
import { ALL_GROUPS } from "./dh/groups.ts";

import { LEGACY_GROUPS } from "./dh/groups.ts";

export { LEGACY_GROUPS };
import {
  type AeadAlg,
  type AeadContext,
  type AlgorithmName,
  type CipherAlg,
  type CipherContext,
  type CryptoBackend,
  CryptoError,
  type DhGroup,
  type DhGroupId,
  type HashAlg,
  type MacAlg,
  type MacContext,
  type PrfAlg,
} from "./types.ts";

/** Algorithms the registry tests and serves today. */
export const REGISTRY_ALGORITHMS: readonly AlgorithmName[] = [
  "aead:aes128gcm16",
  "aead:aes256gcm16",
  "aead:chacha20poly1305",
  "cipher:aes128cbc",
  "cipher:aes192cbc",
  "cipher:aes256cbc",
  "cipher:3descbc",
  "mac:hmac-sha1-96",
  "mac:hmac-sha256-128",
  "mac:hmac-sha384-192",
  "mac:hmac-sha512-256",
  "mac:aes-xcbc-96",
  "prf:hmac-md5",
  "prf:hmac-sha1",
  "prf:hmac-sha256",
  "prf:hmac-sha384",
  "prf:hmac-sha512",
  "prf:aes-xcbc-prf128",
  "hash:md5",
  "hash:sha1",
  "hash:sha256",
  "hash:sha384",
  "hash:sha512",
  ...ALL_GROUPS.map((g) => `dh:${g}` as const),
  "random",
];

/**
 * Algorithms only a legacy peer profile uses (RFC 8247 §2.3-2.4): their absence does not fail
 * `branchgate selftest`. Everything else in REGISTRY_ALGORITHMS is needed by default.
 */
export const LEGACY_ALGORITHMS: ReadonlySet<AlgorithmName> = new Set<AlgorithmName>([
  ...[...LEGACY_GROUPS].map((g) => `dh:${g}` as const),
  "prf:hmac-md5",
  "hash:md5",
]);

/** One row of the self-test report. */
export interface SelftestRow {
  /** The algorithm. */
  readonly alg: AlgorithmName;
  /** KAT outcome per backend name, in preference order. */
  readonly results: ReadonlyArray<readonly [string, KatResult]>;
  /** The backend in use, if any passed. */
  readonly chosen: string | undefined;
}

/** Backends chosen per algorithm after their known-answer tests, run lazily and cached. */
export class CryptoRegistry {
  /** Per algorithm, each backend's KAT outcome (undefined: not run yet). */
  readonly #results = new Map<AlgorithmName, (KatResult | undefined)[]>();
  readonly #chosen = new Map<AlgorithmName, CryptoBackend | null>();

  /**
   * A registry over `backends` (in preference order) serving `algorithms`. No test runs here:
   * each algorithm is tested on its first use. `offload` is what /dev/crypto set-up found.
   */
  constructor(
    readonly backends: readonly CryptoBackend[],
    readonly algorithms: readonly AlgorithmName[] = REGISTRY_ALGORITHMS,
    readonly offload?: OffloadStatus,
  ) {}

  #result(alg: AlgorithmName, i: number): KatResult {
    let row = this.#results.get(alg);
    if (row === undefined) this.#results.set(alg, row = this.backends.map(() => undefined));
    return row[i] ??= runKat(this.backends[i]!, alg);
  }

  #pick(alg: AlgorithmName): CryptoBackend | null {
    let b = this.#chosen.get(alg);
    if (b === undefined) {
      // Stop at the first backend that passes: later ones are only tested by report().
      const i = this.algorithms.includes(alg)
        ? this.backends.findIndex((_, j) => this.#result(alg, j) === "pass")
        : -1;
      b = i < 0 ? null : this.backends[i]!;
      this.#chosen.set(alg, b);
    }
    return b;
  }

  #backend(alg: AlgorithmName): CryptoBackend {
    const b = this.#pick(alg);
    if (b === null) throw new CryptoError("no backend passed its known-answer test", alg);
    return b;
  }

  /** The backend serving `alg` (testing it now if this is its first use), if any. */
  chosen(alg: AlgorithmName): string | undefined {
    return this.#pick(alg)?.name;
  }

  /** A keyed AEAD context from the chosen backend. */
  aead(alg: AeadAlg, key: Uint8Array): AeadContext {
    const ctx = this.#backend(`aead:${alg}`).aead(alg, key);
    if (ctx === undefined) throw new CryptoError("backend refused the key", alg);
    return ctx;
  }

  /** A keyed CBC cipher context from the chosen backend. */
  cipher(alg: CipherAlg, key: Uint8Array): CipherContext {
    const ctx = this.#backend(`cipher:${alg}`).cipher(alg, key);
    if (ctx === undefined) throw new CryptoError("backend refused the key", alg);
    return ctx;
  }

  /** A keyed truncated-MAC context from the chosen backend. */
  mac(alg: MacAlg, key: Uint8Array): MacContext {
    const ctx = this.#backend(`mac:${alg}`).mac(alg, key);
    if (ctx === undefined) throw new CryptoError("backend refused the key", alg);
    return ctx;
  }

  /** prf(key, data) from the chosen backend. */
  prf(alg: PrfAlg, key: Uint8Array, data: Uint8Array): Uint8Array {
    const out = this.#backend(`prf:${alg}`).prf(alg, key, data);
    if (out === undefined) throw new CryptoError("prf unavailable", alg);
    return out;
  }

  /** A hash from the chosen backend. */
  hash(alg: HashAlg, data: Uint8Array): Uint8Array {
    const out = this.#backend(`hash:${alg}`).hash(alg, data);
    if (out === undefined) throw new CryptoError("hash unavailable", alg);
    return out;
  }

  /** A Diffie-Hellman group from the chosen backend (public value checks per RFC 6989). */
  dh(group: DhGroupId): DhGroup {
    const g = this.#backend(`dh:${group}`).dh(group);
    if (g === undefined) throw new CryptoError("group unavailable", `dh:${group}`);
    return g;
  }

  /** Random bytes from the chosen backend. */
  randomBytes(n: number): Uint8Array {
    return this.#backend("random").randomBytes(n);
  }

  /** The self-test table: every algorithm's KAT on every backend, and the choice. */
  report(): readonly SelftestRow[] {
    return this.algorithms.map((alg) => ({
      alg,
      results: this.backends.map((b, i) => [b.name, this.#result(alg, i)] as const),
      chosen: this.chosen(alg),
    }));
  }
}

/** Imports the portable software backend (noble) on demand. */
async function loadSoftwareBackend(): Promise<CryptoBackend> {
  const { createSoftwareBackend } = await import("./software.ts");
  return createSoftwareBackend();
}

/**
 * Every backend this machine offers (the software one included; the raw /dev/crypto one last
 * when `device` opens through `library`), for the vector suite and benchmarks.
 */
export async function availableBackends(
  device = DEFAULT_OFFLOAD.device,
  library?: string,
): Promise<CryptoBackend[]> {
  const list: CryptoBackend[] = [];
  const ossl = createOpenSslBackend();
  if (ossl !== undefined) list.push(ossl);
  list.push(await loadSoftwareBackend());
  try {
    list.push(openCryptodevBackend(device, library));
  } catch {
    // no device here: the other backends are the whole list
  }
  return list;
}

/** Algorithms needed by default (everything but the legacy-only ones). */
export const DEFAULT_ALGORITHMS: readonly AlgorithmName[] = REGISTRY_ALGORITHMS.filter((a) =>
  !LEGACY_ALGORITHMS.has(a)
);

/** How {@link initCrypto} builds the process-wide registry. */
export interface InitCryptoOptions {
  /** Load every backend, the software one included (the self-test reports them all). */
  readonly allBackends?: boolean;
  /**
   * Algorithms to test now on libcrypto (default {@link DEFAULT_ALGORITHMS}); if one fails,
   * the software backend is loaded as the fallback.
   */
  readonly needed?: readonly AlgorithmName[];
  /** /dev/crypto offload (`[gateway] crypto_offload`, `crypto_device`); default auto. */
  readonly offload?: OffloadOptions;
}

let shared: CryptoRegistry | undefined;

/**
 * Builds the process-wide registry: libcrypto alone when it is present and passes the
 * known-answer tests of every needed algorithm, else libcrypto plus the software backend.
 * Entry points (the daemon, the data-path Worker, `selftest`) call it once at start.
 */
export async function initCrypto(opts: InitCryptoOptions = {}): Promise<CryptoRegistry> {
  return shared = await buildCrypto(opts);
}

/**
 * A registry built as {@link initCrypto} builds it, without making it the process-wide one
 * (the data path keys its SAs from its own, with the offload settings it was started with).
 */
export async function buildCrypto(opts: InitCryptoOptions = {}): Promise<CryptoRegistry> {
  const ossl = createOpenSslBackend();
  // /dev/crypto first, for what its known-answer tests and calibration gave it.
  const offload = setUpOffload(opts.offload ?? DEFAULT_OFFLOAD, ossl);
  const first = offload.backend === undefined ? [] : [offload.backend];
  if (ossl !== undefined && opts.allBackends !== true) {
    const alone = new CryptoRegistry([...first, ossl], REGISTRY_ALGORITHMS, offload.status);
    const needed = opts.needed ?? DEFAULT_ALGORITHMS;
    if (needed.every((alg) => alone.chosen(alg) !== undefined)) return alone;
  }
  const list: CryptoBackend[] = ossl === undefined ? [] : [...first, ossl];
  list.push(await loadSoftwareBackend());
  return new CryptoRegistry(list, REGISTRY_ALGORITHMS, offload.status);
}

/**
 * The process-wide registry. Before {@link initCrypto} has run it is libcrypto alone (each
 * algorithm tested on first use); without libcrypto it throws, naming the fix.
 */
export function getCrypto(): CryptoRegistry {
  if (shared !== undefined) return shared;
  const ossl = createOpenSslBackend();
  if (ossl === undefined) {
    throw new CryptoError("libcrypto not found and initCrypto() not called: no crypto backend");
  }
  return shared = new CryptoRegistry([ossl]);
}
