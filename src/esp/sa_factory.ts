/**
 * Builds the packet-path SA objects from an `EspSaSpec`: one cipher context (and MAC context)
 * per SA, taken at install time from the crypto registry, so a hardware backend can take an
 * SA over later without touching the packet path (libcrypto's contexts make their native
 * state at the first packet: an idle SA holds none).
 * @module
 */

import type {
  AeadAlg,
  AeadContext,
  CipherAlg,
  CipherContext,
  MacAlg,
  MacContext,
} from "../crypto/types.ts";
import { AEAD_KEY_LENGTH, CIPHER_KEY_LENGTH, MAC_PARAMS } from "../crypto/params.ts";
import { InboundAeadSa, OutboundAeadSa } from "./esp_aead.ts";
import { InboundCbcSa, OutboundCbcSa } from "./esp_cbc.ts";
import type { InboundSa, OutboundSa } from "./esp_sa.ts";
import type { EspSaSpec } from "./sa_spec.ts";

/** What the data path needs from the crypto registry (`getCrypto()` satisfies it). */
export interface SaCrypto {
  /** A keyed AEAD context (key without salt). */
  aead(alg: AeadAlg, key: Uint8Array): AeadContext;
  /** A keyed CBC cipher context. */
  cipher(alg: CipherAlg, key: Uint8Array): CipherContext;
  /** A keyed truncated-MAC context. */
  mac(alg: MacAlg, key: Uint8Array): MacContext;
}

/** "0x0000abcd", for messages. */
export function hexSpi(spi: number): string {
  return `0x${(spi >>> 0).toString(16).padStart(8, "0")}`;
}

/** How many key bytes a transform needs (AEAD: key and 4-byte salt; else cipher then MAC key). */
export function keyMaterialLength(t: EspSaSpec["transform"]): number {
  return t.kind === "aead"
    ? AEAD_KEY_LENGTH[t.alg] + 4
    : CIPHER_KEY_LENGTH[t.cipher] + MAC_PARAMS[t.mac].keyLength;
}

function checkSpec(spec: EspSaSpec): void {
  const id = `SA ${hexSpi(spec.spi)}`;
  if (!Number.isInteger(spec.spi) || spec.spi < 256 || spec.spi > 0xffff_ffff) {
    // RFC 4303 §2.1: SPIs 1-255 are reserved by IANA, 0 is for local use only.
    throw new RangeError(`${id}: SPI must be 256..2^32-1`);
  }
  const t = spec.transform;
  const known = t.kind === "aead"
    ? t.alg in AEAD_KEY_LENGTH
    : t.kind === "cipher+mac" && t.cipher in CIPHER_KEY_LENGTH && t.mac in MAC_PARAMS;
  if (!known) throw new RangeError(`${id}: unsupported transform ${JSON.stringify(t)}`);
  const need = keyMaterialLength(t);
  if (spec.keyMaterial.length !== need) {
    throw new RangeError(`${id}: the transform needs ${need} bytes of key material`);
  }
  if (spec.direction === "in") {
    const w = spec.replayWindow;
    if (!Number.isInteger(w) || w < 0 || w > 1 << 20) {
      throw new RangeError(`${id}: replay window must be 0..${1 << 20}`);
    }
  }
}

/** An inbound SA for `spec`; throws a RangeError naming the SA when the spec is unusable. */
export function createInboundSa(spec: EspSaSpec, crypto: SaCrypto): InboundSa {
  checkSpec(spec);
  const t = spec.transform;
  const k = spec.keyMaterial;
  if (t.kind === "aead") {
    const n = AEAD_KEY_LENGTH[t.alg];
    const aead = crypto.aead(t.alg, k.subarray(0, n));
    return new InboundAeadSa(spec.spi, aead, k.subarray(n), spec.esn, spec.replayWindow);
  }
  const n = CIPHER_KEY_LENGTH[t.cipher];
  const cipher = crypto.cipher(t.cipher, k.subarray(0, n));
  const mac = crypto.mac(t.mac, k.subarray(n));
  return new InboundCbcSa(spec.spi, cipher, mac, spec.esn, spec.replayWindow);
}

/** An outbound SA for `spec`; throws a RangeError naming the SA when the spec is unusable. */
export function createOutboundSa(spec: EspSaSpec, crypto: SaCrypto): OutboundSa {
  checkSpec(spec);
  const t = spec.transform;
  const k = spec.keyMaterial;
  if (t.kind === "aead") {
    const n = AEAD_KEY_LENGTH[t.alg];
    return new OutboundAeadSa(
      spec.spi,
      crypto.aead(t.alg, k.subarray(0, n)),
      k.subarray(n),
      spec.esn,
    );
  }
  const n = CIPHER_KEY_LENGTH[t.cipher];
  const cipher = crypto.cipher(t.cipher, k.subarray(0, n));
  const mac = crypto.mac(t.mac, k.subarray(n));
  return new OutboundCbcSa(spec.spi, cipher, mac, spec.esn);
}
