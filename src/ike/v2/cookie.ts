/**
 * Stateless IKEv2 cookies (RFC 7296 §2.6): once half-open SAs pass a threshold, an
 * IKE_SA_INIT without a valid COOKIE is answered with one and no state is kept. The cookie is
 * VersionIDofSecret (1 octet) | prf(secret, Ni | IPi | SPIi), truncated to 16 octets; the
 * secret changes every {@link SECRET_LIFETIME_MS} and the previous one stays valid for one more
 * period, so a cookie handed out just before the change still works.
 * @module
 */

import { concat, type KdfPrimitives } from "../../crypto/kdf/primitives.ts";
import { parseIp } from "../../net/addr.ts";

/** How long one secret is used (ms). */
export const SECRET_LIFETIME_MS = 300_000;

/** Cookie length: 1 version octet and 16 hash octets (§2.6 allows 1..64). */
const LENGTH = 17;

/** Makes and checks cookies. */
export class CookieJar {
  #version = 0;
  #secret: Uint8Array;
  #previous: Uint8Array | undefined;
  #since: number;

  /** A jar with a fresh secret from `random`, starting at `now`. */
  constructor(private readonly random: (n: number) => Uint8Array, now: number) {
    this.#secret = random(32);
    this.#since = now;
  }

  #rotate(now: number): void {
    if (now - this.#since < SECRET_LIFETIME_MS) return;
    this.#previous = this.#secret;
    this.#secret = this.random(32);
    this.#version = (this.#version + 1) & 0xff;
    this.#since = now;
  }

  #hash(
    c: KdfPrimitives,
    secret: Uint8Array,
    version: number,
    ni: Uint8Array,
    ip: string,
    spiI: Uint8Array,
  ) {
    const addr = parseIp(ip) ?? new TextEncoder().encode(ip);
    const h = c.prf("hmac-sha256", secret, concat(ni, addr, spiI)).subarray(0, LENGTH - 1);
    return concat(Uint8Array.of(version), h);
  }

  /** The cookie for an IKE_SA_INIT with `ni` and `spiI` from `ip`. */
  make(c: KdfPrimitives, ni: Uint8Array, ip: string, spiI: Uint8Array, now: number): Uint8Array {
    this.#rotate(now);
    return this.#hash(c, this.#secret, this.#version, ni, ip, spiI);
  }

  /** Whether `cookie` is one we made for these values with the current or previous secret. */
  valid(
    c: KdfPrimitives,
    cookie: Uint8Array,
    ni: Uint8Array,
    ip: string,
    spiI: Uint8Array,
    now: number,
  ): boolean {
    this.#rotate(now);
    if (cookie.length !== LENGTH) return false;
    const v = cookie[0]!;
    const secret = v === this.#version
      ? this.#secret
      : v === ((this.#version + 255) & 0xff)
      ? this.#previous
      : undefined;
    if (secret === undefined) return false;
    const want = this.#hash(c, secret, v, ni, ip, spiI);
    let d = 0;
    for (let i = 0; i < LENGTH; i++) d |= want[i]! ^ cookie[i]!;
    return d === 0;
  }
}
