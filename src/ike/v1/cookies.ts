/**
 * Responder cookies (RFC 2408 §2.5.3): a hash over the peer's address and port, the
 * initiator cookie, the time and a secret only we know, so they are unique and unpredictable.
 * @module
 */

import { concat, type KdfPrimitives, u32 } from "../../crypto/kdf/primitives.ts";
import type { Endpoint } from "../actions.ts";

/** Makes responder cookies from one secret drawn at creation. */
export class CookieMaker {
  readonly #secret: Uint8Array;
  #counter = 0;

  /** A maker keyed with 32 random bytes. */
  constructor(random: (n: number) => Uint8Array) {
    this.#secret = random(32);
  }

  /** An 8-byte responder cookie for `ckyI` from `remote` at `now`; never all zero. */
  make(c: KdfPrimitives, ckyI: Uint8Array, remote: Endpoint, now: number): Uint8Array {
    this.#counter = (this.#counter + 1) >>> 0;
    const data = concat(
      ckyI,
      new TextEncoder().encode(`${remote.address}|${remote.port}|${Math.floor(now)}`),
      u32(this.#counter),
    );
    const out = c.prf("hmac-sha256", this.#secret, data).slice(0, 8);
    if (out.every((b) => b === 0)) out[7] = 1;
    return out;
  }
}
