/**
 * The offload backend the registry serves from: per algorithm a {@link OffloadRoute} says for
 * which operation sizes the device is used (from calibration, or every size when forced), and
 * each context pairs a device context with a libcrypto one for the same key.
 *
 * A device operation that fails (anything but a bad tag) marks the route failed: from then on
 * that algorithm never goes to the device again, in any context, and the operation that failed
 * is redone on libcrypto from a snapshot of its input, so the SA loses nothing. Nothing here
 * allocates per operation.
 * @module
 */

import { EBADMSG } from "../../hw/cryptodev.ts";
import { type CryptodevBackend, DevAead, DevCbc, DevHmac } from "./cryptodev.ts";
import { freshMac } from "./params.ts";
import type {
  AeadAlg,
  AeadContext,
  AlgorithmName,
  CipherAlg,
  CipherContext,
  CryptoBackend,
  MacAlg,
  MacContext,
} from "./types.ts";

/** Where one algorithm's operations go, and what happened to them. */
export interface OffloadRoute {
  /** The algorithm. */
  readonly alg: AlgorithmName;
  /** Operations of `min` <= length < `max` bytes go to the device (max 0: none). */
  readonly min: number;
  /** Exclusive upper bound (Infinity: no bound). */
  readonly max: number;
  /** Why the device was dropped for this algorithm (an operation failed), if it was. */
  failed: string | undefined;
  /** Operations the device did. */
  deviceOps: number;
  /** Operations libcrypto did instead (outside the size range, or after a failure). */
  softwareOps: number;
}

/** What `show crypto` shows of a route (plain data: it crosses from the data-path Worker). */
export interface OffloadRouteView {
  /** The algorithm. */
  readonly alg: AlgorithmName;
  /** Operations on the device. */
  readonly deviceOps: number;
  /** Operations on libcrypto. */
  readonly softwareOps: number;
  /** Why the device was dropped, if it was. */
  readonly failed?: string;
}

/** Plain copies of `routes` (none: empty). */
export function routeViews(routes: ReadonlyMap<AlgorithmName, OffloadRoute> | undefined) {
  const out: OffloadRouteView[] = [];
  for (const r of routes?.values() ?? []) {
    out.push({
      alg: r.alg,
      deviceOps: r.deviceOps,
      softwareOps: r.softwareOps,
      ...(r.failed !== undefined ? { failed: r.failed } : {}),
    });
  }
  return out;
}

/** A fresh route for `alg` over [min, max). */
export function newRoute(alg: AlgorithmName, min: number, max: number): OffloadRoute {
  return { alg, min, max, failed: undefined, deviceOps: 0, softwareOps: 0 };
}

function useDevice(r: OffloadRoute, length: number): boolean {
  return r.failed === undefined && length >= r.min && length < r.max;
}

function fail(r: OffloadRoute, errno: number): void {
  r.failed = `operation failed (errno ${errno})`;
}

/** AES-GCM on the device for the route's sizes, libcrypto otherwise. */
class OffloadAead implements AeadContext {
  readonly icvLength = 16;

  constructor(
    readonly alg: AeadAlg,
    private readonly dev: DevAead,
    private readonly sw: AeadContext,
    private readonly route: OffloadRoute,
  ) {}

  seal(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    const r = this.route;
    const d = this.dev;
    if (useDevice(r, length) && d.valid(nonce, aad, buf, offset, length)) {
      if (d.saveInput(buf, offset, length)) {
        const rc = d.trySeal(nonce, aad, buf, offset, length);
        if (rc === 0) {
          r.deviceOps++;
          return;
        }
        d.restoreInput(buf, offset, length);
        fail(r, rc);
      }
    }
    r.softwareOps++;
    this.sw.seal(nonce, aad, buf, offset, length);
  }

  open(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number) {
    const r = this.route;
    const d = this.dev;
    if (useDevice(r, length) && d.valid(nonce, aad, buf, offset, length)) {
      if (d.saveInput(buf, offset, length + 16)) {
        const rc = d.tryOpen(nonce, aad, buf, offset, length);
        if (rc === 0 || rc === EBADMSG) {
          r.deviceOps++;
          return rc === 0;
        }
        d.restoreInput(buf, offset, length + 16);
        fail(r, rc);
      }
    }
    r.softwareOps++;
    return this.sw.open(nonce, aad, buf, offset, length);
  }

  dispose(): void {
    this.dev.dispose();
    this.sw.dispose();
  }
}

/** AES-CBC on the device for the route's sizes, libcrypto otherwise. */
class OffloadCbc implements CipherContext {
  readonly blockSize = 16;

  constructor(
    readonly alg: CipherAlg,
    private readonly dev: DevCbc,
    private readonly sw: CipherContext,
    private readonly route: OffloadRoute,
  ) {}

  encrypt(iv: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    if (!this.#device(true, iv, buf, offset, length)) this.sw.encrypt(iv, buf, offset, length);
  }

  decrypt(iv: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    if (!this.#device(false, iv, buf, offset, length)) this.sw.decrypt(iv, buf, offset, length);
  }

  #device(enc: boolean, iv: Uint8Array, buf: Uint8Array, offset: number, length: number) {
    const r = this.route;
    const d = this.dev;
    if (useDevice(r, length) && d.valid(iv, buf, offset, length)) {
      if (d.saveInput(buf, offset, length)) {
        const rc = d.tryRun(enc, iv, buf, offset, length);
        if (rc === 0) {
          r.deviceOps++;
          return true;
        }
        d.restoreInput(buf, offset, length);
        fail(r, rc);
      }
    }
    r.softwareOps++;
    return false;
  }

  dispose(): void {
    this.dev.dispose();
    this.sw.dispose();
  }
}

/** HMAC on the device for the route's sizes, libcrypto otherwise (the input is only read). */
class OffloadHmac implements MacContext {
  readonly icvLength: number;

  constructor(
    readonly alg: MacAlg,
    private readonly dev: DevHmac,
    private readonly sw: MacContext,
    private readonly route: OffloadRoute,
  ) {
    this.icvLength = sw.icvLength;
  }

  computeInto(
    data: Uint8Array,
    offset: number,
    length: number,
    out: Uint8Array,
    outOffset: number,
  ): void {
    const r = this.route;
    const d = this.dev;
    if (useDevice(r, length) && d.valid(data, offset, length, out, outOffset)) {
      const rc = d.tryCompute(data, offset, length, out, outOffset);
      if (rc === 0) {
        r.deviceOps++;
        return;
      }
      fail(r, rc);
    }
    r.softwareOps++;
    this.sw.computeInto(data, offset, length, out, outOffset);
  }

  compute(data: Uint8Array): Uint8Array {
    return freshMac(this, data);
  }

  dispose(): void {
    this.dev.dispose();
    this.sw.dispose();
  }
}

/**
 * The backend named "cryptodev" the registry puts first: it claims exactly the algorithms with a
 * route (the others go to the next backend) and pairs every device context with one from
 * `sw` (libcrypto). A device that refuses a session leaves the context on `sw` alone.
 */
export function createOffloadBackend(
  dev: CryptodevBackend,
  sw: CryptoBackend,
  routes: ReadonlyMap<AlgorithmName, OffloadRoute>,
): CryptoBackend {
  // A session the device refuses (out of sessions, say) must not cost the SA: libcrypto alone.
  const pair = <D, S>(
    make: () => D | undefined,
    soft: S | undefined,
    wrap: (d: D, s: S) => S,
  ) => {
    if (soft === undefined) return undefined;
    let d: D | undefined;
    try {
      d = make();
    } catch {
      d = undefined;
    }
    return d === undefined ? soft : wrap(d, soft);
  };
  return {
    name: "cryptodev",
    supports: (alg) => routes.has(alg) && sw.supports(alg),
    aead: (alg, key) => {
      const route = routes.get(`aead:${alg}`);
      if (route === undefined) return undefined;
      return pair(
        () => dev.aead(alg, key) as DevAead | undefined,
        sw.aead(alg, key),
        (d, s) => new OffloadAead(alg, d, s, route),
      );
    },
    cipher: (alg, key) => {
      const route = routes.get(`cipher:${alg}`);
      if (route === undefined) return undefined;
      return pair(
        () => dev.cipher(alg, key) as DevCbc | undefined,
        sw.cipher(alg, key),
        (d, s) => new OffloadCbc(alg, d, s, route),
      );
    },
    mac: (alg, key) => {
      const route = routes.get(`mac:${alg}`);
      if (route === undefined) return undefined;
      return pair(
        () => dev.mac(alg, key) as DevHmac | undefined,
        sw.mac(alg, key),
        (d, s) => new OffloadHmac(alg, d, s, route),
      );
    },
    prf: () => undefined,
    hash: () => undefined,
    dh: () => undefined,
    randomBytes: (n) => sw.randomBytes(n),
    close: () => dev.close(),
  };
}
