/**
 * What an IKEv1 initiator offers, built from the peer's configured proposals: the Phase 1 SA
 * payload (RFC 2409 Appendix A attributes, one ISAKMP proposal whose KEY_IKE transforms are
 * alternatives, RFC 2408 §4.2) and the Quick Mode SA payload (RFC 2407 §4.4.4, §4.5: one ESP
 * proposal, transforms as alternatives, lifetimes, encapsulation mode, PFS group). IKEv1 sends
 * one KE in Quick Mode, so every transform offered carries the same PFS group: the first
 * configured proposal's. The answers are read back with the responder's selection code
 * (ike_proposal.ts, esp_proposal.ts). Pure.
 * @module
 */

import type { PeerConfig } from "../../config/schema.ts";
import type { AeadAlg, CipherAlg, HashAlg, MacAlg } from "../../crypto/types.ts";
import { type DataAttribute, numberAttribute } from "../message/attributes.ts";
import {
  AuthMethodV1,
  DoiV1,
  EncapsulationV1,
  EspTransformV1,
  IkeAttrV1,
  IkeEncryptionV1,
  IkeHashV1,
  IpsecAttrV1,
  IpsecAuthV1,
  IsakmpTransformV1,
  LifeTypeV1,
  ProtocolV1,
  SituationV1,
} from "../message/v1/registry.ts";
import type { SaPayloadV1, TransformV1 } from "../message/v1/types.ts";
import { parseEspProposals } from "./esp_proposal.ts";
import { parseIkeProposals } from "./ike_proposal.ts";
import { spiBytes } from "../child/spi.ts";

const IKE_CIPHER: Readonly<Record<CipherAlg, readonly [number, number | undefined]>> = {
  aes128cbc: [IkeEncryptionV1.AES_CBC, 128],
  aes192cbc: [IkeEncryptionV1.AES_CBC, 192],
  aes256cbc: [IkeEncryptionV1.AES_CBC, 256],
  "3descbc": [IkeEncryptionV1["3DES_CBC"], undefined],
};
const IKE_HASH: Readonly<Record<HashAlg, number>> = {
  md5: IkeHashV1.MD5,
  sha1: IkeHashV1.SHA,
  sha256: IkeHashV1.SHA2_256,
  sha384: IkeHashV1.SHA2_384,
  sha512: IkeHashV1.SHA2_512,
};
const ESP_AEAD: Readonly<Partial<Record<AeadAlg, readonly [number, number]>>> = {
  aes128gcm16: [EspTransformV1.AES_GCM_16, 128],
  aes256gcm16: [EspTransformV1.AES_GCM_16, 256],
};
const ESP_CIPHER: Readonly<Record<CipherAlg, readonly [number, number | undefined]>> = {
  aes128cbc: [EspTransformV1.AES_CBC, 128],
  aes192cbc: [EspTransformV1.AES_CBC, 192],
  aes256cbc: [EspTransformV1.AES_CBC, 256],
  "3descbc": [EspTransformV1["3DES"], undefined],
};
const ESP_MAC: Readonly<Record<MacAlg, number>> = {
  "hmac-sha1-96": IpsecAuthV1.HMAC_SHA,
  "hmac-sha256-128": IpsecAuthV1.HMAC_SHA2_256,
  "hmac-sha384-192": IpsecAuthV1.HMAC_SHA2_384,
  "hmac-sha512-256": IpsecAuthV1.HMAC_SHA2_512,
  "aes-xcbc-96": IpsecAuthV1.AES_XCBC_MAC,
};

const n = numberAttribute;

/**
 * Main/Aggressive Mode SA payload: every configured cipher × hash × group with authentication
 * method `auth` (PSK unless given: RSA signatures or ECDSA for certificates), ike_lifetime.
 */
export function ikeOffer(
  peer: PeerConfig,
  auth: number = AuthMethodV1.PRE_SHARED_KEY,
): SaPayloadV1 {
  const transforms: TransformV1[] = [];
  for (const c of parseIkeProposals(peer.ike_proposals)) {
    for (const cipher of c.ciphers) {
      for (const hash of c.hashes) {
        for (const group of c.groups) {
          const [enc, bits] = IKE_CIPHER[cipher.alg];
          const attributes: DataAttribute[] = [n(IkeAttrV1.ENCRYPTION_ALGORITHM, enc)];
          if (bits !== undefined) attributes.push(n(IkeAttrV1.KEY_LENGTH, bits));
          attributes.push(
            n(IkeAttrV1.HASH_ALGORITHM, IKE_HASH[hash]),
            n(IkeAttrV1.AUTHENTICATION_METHOD, auth),
            n(IkeAttrV1.GROUP_DESCRIPTION, group),
            n(IkeAttrV1.LIFE_TYPE, LifeTypeV1.SECONDS),
            n(IkeAttrV1.LIFE_DURATION, peer.ike_lifetime),
          );
          transforms.push({
            number: transforms.length + 1,
            id: IsakmpTransformV1.KEY_IKE,
            attributes,
          });
        }
      }
    }
  }
  return {
    kind: "sa",
    doi: DoiV1.IPSEC,
    situation: SituationV1.IDENTITY_ONLY,
    proposals: [{ number: 1, protocol: ProtocolV1.ISAKMP, spi: new Uint8Array(0), transforms }],
  };
}

/** The Quick Mode offer: the SA payload and the PFS group its KE must use (0: none). */
export interface EspOffer {
  /** SA payload with our inbound SPI. */
  readonly sa: SaPayloadV1;
  /** PFS group of every transform, 0 without PFS. */
  readonly pfsGroup: number;
}

/**
 * Quick Mode SA payload for `peer` with our inbound `spi`; `udpEncap` asks for UDP-encapsulated
 * tunnel mode (RFC 3947 §5.1 value, or the draft's 61443 with a draft peer).
 */
export function espOffer(
  peer: PeerConfig,
  spi: number,
  udpEncap: false | "rfc" | "draft",
): EspOffer {
  const configured = parseEspProposals(peer.esp_proposals);
  const pfsGroup = configured[0]?.groups[0] ?? 0;
  const mode = udpEncap === false
    ? EncapsulationV1.TUNNEL
    : udpEncap === "rfc"
    ? EncapsulationV1.UDP_TUNNEL
    : EncapsulationV1.UDP_TUNNEL_DRAFT;
  const common = (esn: boolean): DataAttribute[] => {
    const a = [
      n(IpsecAttrV1.SA_LIFE_TYPE, LifeTypeV1.SECONDS),
      n(IpsecAttrV1.SA_LIFE_DURATION, peer.esp_lifetime),
    ];
    if (peer.esp_lifetime_bytes > 0) {
      a.push(
        n(IpsecAttrV1.SA_LIFE_TYPE, LifeTypeV1.KILOBYTES),
        n(IpsecAttrV1.SA_LIFE_DURATION, Math.max(1, Math.floor(peer.esp_lifetime_bytes / 1024))),
      );
    }
    if (pfsGroup !== 0) a.push(n(IpsecAttrV1.GROUP_DESCRIPTION, pfsGroup));
    a.push(n(IpsecAttrV1.ENCAPSULATION_MODE, mode));
    if (esn) a.push(n(IpsecAttrV1.EXTENDED_SEQUENCE_NUMBER, 1));
    return a;
  };
  const transforms: TransformV1[] = [];
  const add = (id: number, attributes: DataAttribute[]) =>
    transforms.push({ number: transforms.length + 1, id, attributes });
  for (const c of configured) {
    const groupOk = pfsGroup === 0 ? c.groups.length === 0 : c.groups.includes(pfsGroup as never);
    if (!groupOk) continue;
    for (const esn of c.esn) {
      for (const alg of c.aeads) {
        const a = ESP_AEAD[alg];
        if (a === undefined) continue;
        add(a[0], [...common(esn), n(IpsecAttrV1.KEY_LENGTH, a[1])]);
      }
      for (const cipher of c.ciphers) {
        for (const mac of c.macs) {
          const [id, bits] = ESP_CIPHER[cipher];
          const attrs = common(esn);
          if (bits !== undefined) attrs.push(n(IpsecAttrV1.KEY_LENGTH, bits));
          attrs.push(n(IpsecAttrV1.AUTH_ALGORITHM, ESP_MAC[mac]));
          add(id, attrs);
        }
      }
    }
  }
  return {
    sa: {
      kind: "sa",
      doi: DoiV1.IPSEC,
      situation: SituationV1.IDENTITY_ONLY,
      proposals: [{ number: 1, protocol: ProtocolV1.ESP, spi: spiBytes(spi), transforms }],
    },
    pfsGroup,
  };
}
