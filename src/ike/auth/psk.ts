/**
 * Pre-shared key authentication: IKEv1 SKEYID = prf(PSK, Ni_b | Nr_b) with HASH_I/HASH_R in a
 * HASH payload (RFC 2409 §5, §5.4), and IKEv2 AUTH = prf(prf(PSK, "Key Pad for IKEv2"),
 * signed octets) with method 2, Shared Key Message Integrity Code (RFC 7296 §2.15).
 * @module
 */

import { skeyidPsk } from "../../crypto/kdf/ikev1.ts";
import type { KdfPrimitives } from "../../crypto/kdf/primitives.ts";
import type { PrfAlg } from "../../crypto/types.ts";
import type {
  Authenticator,
  AuthFailure,
  V1Proof,
  V2Proof,
  V2SignedOctets,
} from "./authenticator.ts";

/** RFC 7296 §2.15: the pad string, 17 ASCII octets without a terminator. */
const KEY_PAD = new TextEncoder().encode("Key Pad for IKEv2");

/** AUTH method 2, Shared Key Message Integrity Code (RFC 7296 §3.8). */
export const SHARED_KEY_MIC = 2;

const NO_KEY: AuthFailure = { ok: false, reason: "no pre-shared key configured for this peer" };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** PSK authentication with one key (undefined: the peer has none, everything fails). */
export class PskAuthenticator implements Authenticator {
  /** {@inheritDoc Authenticator.name} */
  readonly name = "psk";
  readonly #psk: Uint8Array | undefined;
  readonly #none: AuthFailure;

  /** An authenticator for `psk`; `missing` says why everything fails without one. */
  constructor(psk: Uint8Array | undefined, missing?: string) {
    this.#psk = psk !== undefined && psk.length > 0 ? psk : undefined;
    this.#none = missing === undefined ? NO_KEY : { ok: false, reason: missing };
  }

  /** {@inheritDoc Authenticator.skeyidV1} */
  skeyidV1(
    c: KdfPrimitives,
    prf: PrfAlg,
    ni: Uint8Array,
    nr: Uint8Array,
    _gxy: Uint8Array,
  ): Uint8Array | AuthFailure {
    if (this.#psk === undefined) return this.#none;
    return skeyidPsk(c, prf, this.#psk, ni, nr);
  }

  /** {@inheritDoc Authenticator.proveV1} */
  proveV1(hashR: Uint8Array): V1Proof | AuthFailure {
    return { kind: "hash", data: hashR };
  }

  /** {@inheritDoc Authenticator.verifyV1} */
  verifyV1(hashI: Uint8Array, proof: V1Proof | undefined): true | AuthFailure {
    if (proof === undefined || proof.kind !== "hash") {
      return { ok: false, reason: "no HASH payload (PSK expected)" };
    }
    return sameBytes(hashI, proof.data)
      ? true
      : { ok: false, reason: "HASH_I does not verify: wrong PSK or mismatched identity" };
  }

  #mic(c: KdfPrimitives, signed: V2SignedOctets): Uint8Array | AuthFailure {
    if (this.#psk === undefined) return this.#none;
    return c.prf(signed.prf, c.prf(signed.prf, this.#psk, KEY_PAD), signed.octets);
  }

  /** {@inheritDoc Authenticator.proveV2} */
  proveV2(c: KdfPrimitives, signed: V2SignedOctets): V2Proof | AuthFailure {
    const mic = this.#mic(c, signed);
    return mic instanceof Uint8Array ? { method: SHARED_KEY_MIC, data: mic } : mic;
  }

  /** {@inheritDoc Authenticator.verifyV2} */
  verifyV2(c: KdfPrimitives, signed: V2SignedOctets, auth: V2Proof): true | AuthFailure {
    if (auth.method !== SHARED_KEY_MIC) {
      return { ok: false, reason: `AUTH method ${auth.method}, PSK (2) expected` };
    }
    const mic = this.#mic(c, signed);
    if (!(mic instanceof Uint8Array)) return mic;
    return sameBytes(mic, auth.data)
      ? true
      : { ok: false, reason: "AUTH does not verify: wrong PSK or mismatched identity" };
  }
}
