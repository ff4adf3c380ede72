/**
 * Quick Mode ESP proposal selection (RFC 2408 §4.2, RFC 2407 §4.4.4 and §4.5): the peer's
 * offered proposals/transforms against the configured `esp_proposals` in strongSwan keyword
 * syntax ("aes128gcm16", "aes128-sha256", "aes256gcm16-modp2048" = PFS with group 14).
 * Lifetimes offered are honoured but bounded by `esp_lifetime`/`esp_lifetime_bytes`; when we
 * lower them a RESPONDER-LIFETIME notification is due (RFC 2407 §4.5.4, §4.6.3.1). Pure.
 * @module
 */

import type { AeadAlg, CipherAlg, DhGroupId, MacAlg } from "../../crypto/types.ts";
import type { EspTransform } from "../../esp/sa_spec.ts";
import { attributeNumber, type DataAttribute, numberAttribute } from "../message/attributes.ts";
import {
  EncapsulationV1,
  EspTransformV1,
  IpsecAttrV1,
  IpsecAuthV1,
  LifeTypeV1,
  ProtocolV1,
} from "../message/v1/registry.ts";
import type { ProposalV1, SaPayloadV1, TransformV1 } from "../message/v1/types.ts";
import { GROUP_KEYWORDS, groupName, keywordTable, SUPPORTED_GROUPS } from "../algorithms.ts";
import { spiNumber } from "../child/spi.ts";

/** One configured ESP proposal, expanded to the sets of algorithms it allows. */
export interface ConfiguredEsp {
  /** The text as configured. */
  readonly text: string;
  /** AEADs allowed (empty when the proposal uses cipher + integrity). */
  readonly aeads: readonly AeadAlg[];
  /** CBC ciphers allowed. */
  readonly ciphers: readonly CipherAlg[];
  /** Integrity algorithms allowed. */
  readonly macs: readonly MacAlg[];
  /** PFS groups allowed; empty means no PFS. */
  readonly groups: readonly DhGroupId[];
  /** ESN settings allowed; [false] unless "esn" is listed. */
  readonly esn: readonly boolean[];
}

const AEAD_WORDS = keywordTable("aead", "aead");
const CIPHER_WORDS = keywordTable("encr", "cipher");
const MAC_WORDS = keywordTable("integ", "mac");

const nameOf = <T extends string>(table: Readonly<Record<string, T>>, v: T): string =>
  Object.keys(table).find((k) => table[k] === v) ?? v;

/** A transform in proposal syntax: "aes128gcm16", "aes256-sha256". */
export function transformName(t: EspTransform): string {
  return t.kind === "aead"
    ? nameOf(AEAD_WORDS, t.alg)
    : `${nameOf(CIPHER_WORDS, t.cipher)}-${nameOf(MAC_WORDS, t.mac)}`;
}

/**
 * Expands configured proposal texts (already validated by the config checker). Keywords this
 * data path cannot run (des, md5, modp768) leave their set empty for that role, so such a
 * proposal matches nothing.
 */
export function parseEspProposals(texts: readonly string[]): ConfiguredEsp[] {
  return texts.map((text) => {
    const aeads: AeadAlg[] = [];
    const ciphers: CipherAlg[] = [];
    const macs: MacAlg[] = [];
    const groups: DhGroupId[] = [];
    const esn: boolean[] = [];
    let unusable = false;
    for (const w of text.split("-")) {
      const aead = AEAD_WORDS[w];
      const cipher = CIPHER_WORDS[w];
      const mac = MAC_WORDS[w];
      const group = GROUP_KEYWORDS[w];
      if (aead !== undefined) aeads.push(aead);
      else if (cipher !== undefined) ciphers.push(cipher);
      else if (mac !== undefined) macs.push(mac);
      else if (group !== undefined) {
        if (SUPPORTED_GROUPS.has(group)) groups.push(group as DhGroupId);
        else unusable = true;
      } else if (w === "esn") esn.push(true);
      else if (w === "noesn") esn.push(false);
      else unusable = true;
    }
    if (unusable) return { text, aeads: [], ciphers: [], macs: [], groups, esn: [false] };
    return { text, aeads, ciphers, macs, groups, esn: esn.length === 0 ? [false] : esn };
  });
}

/** A peer transform as understood, or why it cannot be used. */
export type OfferedTransform =
  | {
    readonly ok: true;
    /** The algorithms. */
    readonly transform: EspTransform;
    /** PFS group from GROUP_DESCRIPTION, 0 without. */
    readonly group: number;
    /** Extended sequence numbers (RFC 4304 §2). */
    readonly esn: boolean;
    /** UDP-encapsulated tunnel mode (RFC 3947 §5.1, or the draft value). */
    readonly udpEncap: boolean;
    /** Offered lifetime in seconds (28800 when none is given, RFC 2407 §4.5). */
    readonly seconds: number;
    /** Offered lifetime in kilobytes, 0 for none. */
    readonly kilobytes: number;
    /** Proposal-syntax name including the group. */
    readonly name: string;
  }
  | { readonly ok: false; readonly name: string; readonly reason: string };

function cipherFor(id: number, keyBits: number | undefined): CipherAlg | AeadAlg | string {
  switch (id) {
    case EspTransformV1.AES_CBC: {
      // RFC 3602 §5.3: Key Length is required for AES; 128 when a peer leaves it out.
      const bits = keyBits ?? 128;
      return bits === 128
        ? "aes128cbc"
        : bits === 192
        ? "aes192cbc"
        : bits === 256
        ? "aes256cbc"
        : `aes${bits}`;
    }
    case EspTransformV1["3DES"]:
      return "3descbc";
    case EspTransformV1.AES_GCM_16: {
      // RFC 4106 §8.4: Key Length 128, 192 or 256.
      const bits = keyBits ?? 128;
      return bits === 128 ? "aes128gcm16" : bits === 256 ? "aes256gcm16" : `aes${bits}gcm16`;
    }
    case EspTransformV1.DES:
      return "des";
    default:
      return `esp#${id}`;
  }
}

function macFor(auth: number): MacAlg | string {
  switch (auth) {
    case IpsecAuthV1.HMAC_SHA:
      return "hmac-sha1-96";
    case IpsecAuthV1.HMAC_SHA2_256:
      return "hmac-sha256-128";
    case IpsecAuthV1.HMAC_SHA2_384:
      return "hmac-sha384-192";
    case IpsecAuthV1.HMAC_SHA2_512:
      return "hmac-sha512-256";
    case IpsecAuthV1.AES_XCBC_MAC:
      return "aes-xcbc-96";
    case IpsecAuthV1.HMAC_MD5:
      return "md5";
    default:
      return `auth#${auth}`;
  }
}

const isAead = (x: string): x is AeadAlg => x in { aes128gcm16: 1, aes256gcm16: 1 };
const isCipher = (x: string): x is CipherAlg =>
  x in { aes128cbc: 1, aes192cbc: 1, aes256cbc: 1, "3descbc": 1 };
const isMac = (x: string): x is MacAlg => Object.values(MAC_WORDS).includes(x as MacAlg);

/** Decodes one ESP transform's ID and attributes (RFC 2407 §4.4.4, §4.5). */
export function readEspTransform(t: TransformV1): OfferedTransform {
  let seconds = 0;
  let kilobytes = 0;
  let sawLife = false;
  let lifeType: number | undefined;
  let group = 0;
  let encap: number = EncapsulationV1.TUNNEL;
  let auth: number | undefined;
  let keyBits: number | undefined;
  let esn = false;
  const problems: string[] = [];
  for (const a of t.attributes) {
    const v = attributeNumber(a);
    if (v === undefined) {
      problems.push(`attribute ${a.type} has an unusable value`);
      continue;
    }
    switch (a.type) {
      case IpsecAttrV1.SA_LIFE_TYPE:
        lifeType = v;
        break;
      case IpsecAttrV1.SA_LIFE_DURATION:
        // RFC 2407 §4.5: a duration follows its life type.
        if (lifeType === LifeTypeV1.SECONDS) seconds = v;
        else if (lifeType === LifeTypeV1.KILOBYTES) kilobytes = v;
        else problems.push("life duration without a life type");
        sawLife = true;
        break;
      case IpsecAttrV1.GROUP_DESCRIPTION:
        group = v;
        break;
      case IpsecAttrV1.ENCAPSULATION_MODE:
        encap = v;
        break;
      case IpsecAttrV1.AUTH_ALGORITHM:
        auth = v;
        break;
      case IpsecAttrV1.KEY_LENGTH:
        keyBits = v;
        break;
      case IpsecAttrV1.EXTENDED_SEQUENCE_NUMBER:
        esn = v === 1;
        break;
      default:
        problems.push(`attribute ${a.type} not supported`);
    }
  }
  if (sawLife && seconds === 0 && kilobytes === 0) problems.push("zero lifetime");
  // RFC 2407 §4.5: without a lifetime attribute the default is 28800 seconds.
  if (!sawLife) seconds = 28800;
  const enc = cipherFor(t.id, keyBits);
  const mac = auth === undefined ? undefined : macFor(auth);
  const groupPart = group === 0 ? "" : `-${groupName(group)}`;
  const esnPart = esn ? "-esn" : "";
  const encWord = isAead(enc)
    ? nameOf(AEAD_WORDS, enc)
    : isCipher(enc)
    ? nameOf(CIPHER_WORDS, enc)
    : enc;
  const macWord = mac === undefined ? "" : `-${isMac(mac) ? nameOf(MAC_WORDS, mac) : mac}`;
  const name = `${encWord}${macWord}${groupPart}${esnPart}`;
  const udpEncap = encap === EncapsulationV1.UDP_TUNNEL ||
    encap === EncapsulationV1.UDP_TUNNEL_DRAFT;
  if (!udpEncap && encap !== EncapsulationV1.TUNNEL) problems.push(`encapsulation mode ${encap}`);
  if (group !== 0 && !SUPPORTED_GROUPS.has(group)) problems.push(`group ${group} not supported`);
  let transform: EspTransform | undefined;
  if (isAead(enc)) {
    // RFC 4106 §8.4 (IKEv1): no AUTH_ALGORITHM with an AEAD.
    if (auth !== undefined) problems.push("integrity algorithm offered with an AEAD");
    else transform = { kind: "aead", alg: enc };
  } else if (isCipher(enc)) {
    if (mac === undefined) problems.push("no integrity algorithm");
    else if (!isMac(mac)) problems.push(`integrity ${mac} not supported`);
    else transform = { kind: "cipher+mac", cipher: enc, mac };
  } else problems.push(`cipher ${enc} not supported`);
  if (transform === undefined || problems.length > 0) {
    return { ok: false, name, reason: problems.join(", ") || "unsupported" };
  }
  return { ok: true, transform, group, esn, udpEncap, seconds, kilobytes, name };
}

function allows(c: ConfiguredEsp, o: OfferedTransform & { ok: true }): boolean {
  const t = o.transform;
  const algOk = t.kind === "aead"
    ? c.aeads.includes(t.alg)
    : c.ciphers.includes(t.cipher) && c.macs.includes(t.mac);
  const groupOk = c.groups.length === 0 ? o.group === 0 : c.groups.includes(o.group as DhGroupId);
  return algOk && groupOk && c.esn.includes(o.esn);
}

/** Our lifetime limits for the child SA. */
export interface EspLimits {
  /** `esp_lifetime`, seconds. */
  readonly seconds: number;
  /** `esp_lifetime_bytes`, 0 for none. */
  readonly bytes: number;
}

/** A chosen ESP proposal and transform. */
export interface EspSelection {
  /** The peer's proposal that held the chosen transform (its SPI is the peer's inbound SPI). */
  readonly proposal: ProposalV1;
  /** The chosen transform as the peer sent it (echoed in our SA payload, RFC 2408 §4.2). */
  readonly chosen: TransformV1;
  /** The peer's SPI (our outbound SA). */
  readonly peerSpi: number;
  /** Algorithms. */
  readonly transform: EspTransform;
  /** Transform in proposal syntax without the group ("aes128gcm16"). */
  readonly transformName: string;
  /** PFS group, 0 without. */
  readonly pfsGroup: number;
  /** Extended sequence numbers. */
  readonly esn: boolean;
  /** UDP-encapsulated tunnel mode was offered and chosen. */
  readonly udpEncap: boolean;
  /** Lifetime we use: seconds. */
  readonly seconds: number;
  /** Lifetime we use: bytes, 0 for none. */
  readonly bytes: number;
  /**
   * When we lowered the offered lifetime: the attribute list for RESPONDER-LIFETIME
   * (RFC 2407 §4.6.3.1); undefined otherwise.
   */
  readonly responderLifetime?: readonly DataAttribute[];
}

/** Why no proposal was chosen: what the peer offered beside what is configured. */
export interface EspMismatch {
  /** Discriminant. */
  readonly error: "no-proposal";
  /** The peer's transforms in proposal syntax (unsupported ones with the reason). */
  readonly offered: readonly string[];
  /** The configured proposals. */
  readonly configured: readonly string[];
}

function bound(o: OfferedTransform & { ok: true }, limits: EspLimits) {
  const seconds = Math.min(o.seconds || limits.seconds, limits.seconds);
  const offeredBytes = o.kilobytes * 1024;
  const bytes = offeredBytes === 0
    ? limits.bytes
    : limits.bytes === 0
    ? offeredBytes
    : Math.min(offeredBytes, limits.bytes);
  const lowered = (o.seconds !== 0 && seconds < o.seconds) ||
    (bytes !== 0 && (offeredBytes === 0 || bytes < offeredBytes));
  if (!lowered) return { seconds, bytes };
  const attrs: DataAttribute[] = [
    numberAttribute(IpsecAttrV1.SA_LIFE_TYPE, LifeTypeV1.SECONDS),
    numberAttribute(IpsecAttrV1.SA_LIFE_DURATION, seconds),
  ];
  if (bytes !== 0) {
    attrs.push(
      numberAttribute(IpsecAttrV1.SA_LIFE_TYPE, LifeTypeV1.KILOBYTES),
      numberAttribute(IpsecAttrV1.SA_LIFE_DURATION, Math.max(1, Math.floor(bytes / 1024))),
    );
  }
  return { seconds, bytes, responderLifetime: attrs };
}

/**
 * Chooses the first acceptable transform in the peer's order (RFC 2408 §4.2: the responder
 * picks one of the offered proposals and one transform of it). Only single-protocol ESP
 * proposals with a 4-octet SPI qualify (no AH/IPComp bundles).
 */
export function selectEsp(
  sa: SaPayloadV1,
  configured: readonly ConfiguredEsp[],
  limits: EspLimits,
): EspSelection | EspMismatch {
  const offered: string[] = [];
  const counts = new Map<number, number>();
  for (const p of sa.proposals) counts.set(p.number, (counts.get(p.number) ?? 0) + 1);
  for (const p of sa.proposals) {
    if (p.protocol !== ProtocolV1.ESP) {
      offered.push(`protocol#${p.protocol}`);
      continue;
    }
    if ((counts.get(p.number) ?? 0) > 1) {
      offered.push(`proposal ${p.number} (bundle, not supported)`);
      continue;
    }
    const peerSpi = spiNumber(p.spi);
    for (const t of p.transforms) {
      const o = readEspTransform(t);
      if (!o.ok) {
        offered.push(`${o.name} (${o.reason})`);
        continue;
      }
      offered.push(o.name);
      if (peerSpi === undefined || peerSpi < 256) continue;
      if (!configured.some((c) => allows(c, o))) continue;
      return {
        proposal: p,
        chosen: t,
        peerSpi,
        transform: o.transform,
        transformName: transformName(o.transform),
        pfsGroup: o.group,
        esn: o.esn,
        udpEncap: o.udpEncap,
        ...bound(o, limits),
      };
    }
  }
  return { error: "no-proposal", offered, configured: configured.map((c) => c.text) };
}

/** True when `x` is an {@link EspMismatch}. */
export function isEspMismatch(x: EspSelection | EspMismatch): x is EspMismatch {
  return "error" in x;
}
