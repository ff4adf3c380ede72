/**
 * Quick Mode keys for the two ESP SAs of one child: KEYMAT per direction (RFC 2409 §5.5: the SPI
 * chosen by the destination of the SA is used, so our inbound SA uses our SPI and the outbound
 * one the peer's), sized for the transform: AEAD key followed by the 4-byte salt (RFC 4106
 * §8.1; RFC 7634 §4 likewise), or cipher key followed by integrity key (RFC 2409 §5.5: "It is up
 * to the service to define how keys are derived"; encryption key first as IPsec DOI
 * implementations do).
 * @module
 */

import type { PrfAlg } from "../../crypto/types.ts";
import { quickModeKeymat } from "../../crypto/kdf/ikev1.ts";
import type { KdfPrimitives } from "../../crypto/kdf/primitives.ts";
import type { EspTransform } from "../../esp/sa_spec.ts";
import { ProtocolV1 } from "../message/v1/registry.ts";
import { spiBytes } from "../child/spi.ts";
import { keyMaterialLength } from "../child/spec.ts";

export { keyMaterialLength } from "../child/spec.ts";

/** What KEYMAT for one child needs. */
export interface ChildKeyInput {
  /** Phase 1 PRF. */
  readonly prf: PrfAlg;
  /** SKEYID_d of the ISAKMP SA. */
  readonly skeyidD: Uint8Array;
  /** The negotiated transform. */
  readonly transform: EspTransform;
  /** SPI we chose (inbound). */
  readonly inboundSpi: number;
  /** SPI the peer chose (outbound). */
  readonly outboundSpi: number;
  /** Ni_b. */
  readonly ni: Uint8Array;
  /** Nr_b. */
  readonly nr: Uint8Array;
  /** g(qm)^xy with PFS. */
  readonly gqmxy?: Uint8Array;
}

/** Key material for both directions. */
export interface ChildKeys {
  /** For the SA the peer sends on (SPI = ours). */
  readonly inbound: Uint8Array;
  /** For the SA we send on (SPI = the peer's). */
  readonly outbound: Uint8Array;
}

/** KEYMAT for both SAs of one child (RFC 2409 §5.5), protocol ESP. */
export function deriveChildKeys(c: KdfPrimitives, k: ChildKeyInput): ChildKeys {
  const length = keyMaterialLength(k.transform);
  const one = (spi: number) =>
    quickModeKeymat(c, {
      prf: k.prf,
      skeyidD: k.skeyidD,
      protocol: ProtocolV1.ESP,
      spi: spiBytes(spi),
      ni: k.ni,
      nr: k.nr,
      length,
      ...(k.gqmxy === undefined ? {} : { gqmxy: k.gqmxy }),
    });
  const inbound = one(k.inboundSpi);
  const outbound = one(k.outboundSpi);
  // Both in one buffer (an ArrayBuffer per SA costs more than its key bytes); copies zeroed.
  const both = new Uint8Array(inbound.length + outbound.length);
  both.set(inbound);
  both.set(outbound, inbound.length);
  inbound.fill(0);
  outbound.fill(0);
  return { inbound: both.subarray(0, inbound.length), outbound: both.subarray(inbound.length) };
}
