/**
 * The crypto registry: runs every known-answer test on every available backend (lazily, once)
 * and, per algorithm, uses the first backend in preference order whose test passed
 * (libcrypto > software; the /dev/crypto backend will slot in first). An algorithm whose test
 * fails on a backend is never taken from it; one that passes nowhere is unavailable.
 * @module
 */

import { createOpenSslBackend } from "./openssl.ts";
import { createSoftwareBackend } from "./software.ts";
import { type KatResult, runKat } from "./kat.ts";
import { ALL_GROUPS } from "./dh/groups.ts";

export { LEGACY_GROUPS } from "./dh/groups.ts";
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

/** One row of the self-test report. */
export interface SelftestRow {
  /** The algorithm. */
  readonly alg: AlgorithmName;
  /** KAT outcome per backend name, in preference order. */
  readonly results: ReadonlyArray<readonly [string, KatResult]>;
  /** The backend in use, if any passed. */
  readonly chosen: string | undefined;
}

/** Backends chosen per algorithm after their known-answer tests. */
export class CryptoRegistry {
  readonly #chosen = new Map<AlgorithmName, CryptoBackend>();
  readonly #rows: SelftestRow[] = [];

  /** Runs the KATs of `algorithms` on `backends` (in preference order). */
  constructor(
    readonly backends: readonly CryptoBackend[],
    algorithms: readonly AlgorithmName[] = REGISTRY_ALGORITHMS,
  ) {
    for (const alg of algorithms) {
      const results = backends.map((b) => [b.name, runKat(b, alg)] as const);
      const winner = backends.find((_, i) => results[i]![1] === "pass");
      if (winner !== undefined) this.#chosen.set(alg, winner);
      this.#rows.push({ alg, results, chosen: winner?.name });
    }
  }

  #backend(alg: AlgorithmName): CryptoBackend {
    const b = this.#chosen.get(alg);
    if (b === undefined) throw new CryptoError("no backend passed its known-answer test", alg);
    return b;
  }

  /** The backend serving `alg`, if any. */
  chosen(alg: AlgorithmName): string | undefined {
    return this.#chosen.get(alg)?.name;
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

  /** The self-test table: per algorithm, each backend's KAT outcome and the choice. */
  report(): readonly SelftestRow[] {
    return this.#rows;
  }
}

/** The backends this machine offers, in preference order. */
export function availableBackends(): CryptoBackend[] {
  const list: CryptoBackend[] = [];
  const ossl = createOpenSslBackend();
  if (ossl !== undefined) list.push(ossl);
  list.push(createSoftwareBackend());
  return list;
}

let shared: CryptoRegistry | undefined;

/** The process-wide registry, built (and self-tested) on first use. */
export function getCrypto(): CryptoRegistry {
  shared ??= new CryptoRegistry(availableBackends());
  return shared;
}
