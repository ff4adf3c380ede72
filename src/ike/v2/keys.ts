/**
 * The keys of a new IKE SA for either side (RFC 7296 §2.14): SK_* from SKEYSEED (IKE_SA_INIT,
 * §2.14, or an IKE SA rekey, §2.18), and the SK codec oriented by our role — the original
 * initiator seals with SK_ei/SK_ai and opens with SK_er/SK_ar, the responder the other way
 * round. One function for the responder's IKE_SA_INIT, the initiator's and the rekeys.
 * @module
 */

import { deriveIkeSaKeys } from "../../crypto/kdf/ikev2.ts";
import type { IkeAlgorithmsV2 } from "./proposal.ts";
import { type ProtectCrypto, SkCodec, skKeyLengths } from "./protect.ts";
import type { SaSecrets } from "./sa.ts";
import type { V2Crypto } from "./context.ts";

/** Which end of the IKE SA we are (the original initiator or the responder, §2.2). */
export type IkeRole = "initiator" | "responder";

/** The codec and the remaining keys of a new IKE SA. */
export interface IkeSaCrypto {
  /** Protection of SK payloads in both directions. */
  readonly sk: SkCodec;
  /** SK_d, SK_pi, SK_pr. */
  readonly secrets: SaSecrets;
}

/** Derives the SK_* keys of a new IKE SA and orients them for `role`. */
export function ikeSaCrypto(
  crypto: V2Crypto & ProtectCrypto,
  alg: IkeAlgorithmsV2,
  input: {
    readonly skeyseed: Uint8Array;
    readonly ni: Uint8Array;
    readonly nr: Uint8Array;
    readonly spiI: Uint8Array;
    readonly spiR: Uint8Array;
  },
  role: IkeRole,
): IkeSaCrypto {
  const lens = skKeyLengths(alg);
  const keys = deriveIkeSaKeys(crypto, {
    prf: alg.prf,
    ...input,
    integKeyLength: lens.integ,
    encKeyLength: lens.encr,
  });
  const i = { e: keys.skEi, a: keys.skAi };
  const r = { e: keys.skEr, a: keys.skAr };
  return {
    sk: role === "initiator" ? new SkCodec(crypto, alg, r, i) : new SkCodec(crypto, alg, i, r),
    secrets: { skD: keys.skD, skPi: keys.skPi, skPr: keys.skPr },
  };
}
