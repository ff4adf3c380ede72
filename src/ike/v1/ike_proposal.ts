/**
 * Phase 1 proposal selection (RFC 2409 §5 and Appendix A, RFC 2408 §4.2): every offered
 * ISAKMP proposal and KEY_IKE transform against the peer's `ike_proposals` in strongSwan
 * keyword syntax ("aes256-sha256-modp2048"). Lifetimes (RFC 2407 §4.5: LIFE_TYPE then
 * LIFE_DURATION pairs) are honoured but bounded by `ike_lifetime`. Pure.
 * @module
 */

import type { PeerConfig } from "../../config/schema.ts";
import type { CipherAlg, DhGroupId, HashAlg, PrfAlg } from "../../crypto/types.ts";
import { attributeNumber } from "../message/attributes.ts";
import {
  AuthMethodV1,
  IkeAttrV1,
  IkeEncryptionV1,
  IkeHashV1,
  IsakmpTransformV1,
  LifeTypeV1,
  ProtocolV1,
} from "../message/v1/registry.ts";
import type { ProposalV1, SaPayloadV1, TransformV1 } from "../message/v1/types.ts";
import type { Phase1Algorithms } from "../sa.ts";
import {
  ALGORITHMS,
  GROUP_KEYWORDS,
  groupName,
  keywordTable,
  SUPPORTED_GROUPS,
} from "../algorithms.ts";

/** One configured IKE proposal expanded to the algorithm sets it allows. */
export interface ConfiguredIke {
  /** As configured. */
  readonly text: string;
  /** Ciphers with key lengths in bits. */
  readonly ciphers: readonly { readonly alg: CipherAlg; readonly bits: number }[];
  /** Hashes. */
  readonly hashes: readonly HashAlg[];
  /** Groups. */
  readonly groups: readonly number[];
}

const CIPHERS: Readonly<Record<string, { alg: CipherAlg; bits: number }>> = Object.fromEntries(
  ALGORITHMS.filter((a) => a.cipher !== undefined && a.keyBits !== undefined)
    .map((a) => [a.keyword, { alg: a.cipher!, bits: a.keyBits! }]),
);
const HASHES = keywordTable("integ", "hash");
const HASH_IDS: Readonly<Record<number, HashAlg>> = {
  [IkeHashV1.MD5]: "md5",
  [IkeHashV1.SHA]: "sha1",
  [IkeHashV1.SHA2_256]: "sha256",
  [IkeHashV1.SHA2_384]: "sha384",
  [IkeHashV1.SHA2_512]: "sha512",
};

const keyOf = <T>(t: Readonly<Record<string, T>>, v: T) => Object.keys(t).find((k) => t[k] === v);

/** Expands the configured proposal strings (validated by the config schema). */
export function parseIkeProposals(texts: readonly string[]): ConfiguredIke[] {
  return texts.map((text) => {
    const ciphers: { alg: CipherAlg; bits: number }[] = [];
    const hashes: HashAlg[] = [];
    const groups: number[] = [];
    for (const w of text.split("-")) {
      const c = CIPHERS[w];
      if (c !== undefined) ciphers.push(c);
      const h = HASHES[w] ?? HASHES[w.replace(/^prf/, "")];
      if (h !== undefined && !hashes.includes(h)) hashes.push(h);
      const g = GROUP_KEYWORDS[w];
      if (g !== undefined) groups.push(g);
    }
    return { text, ciphers, hashes, groups };
  });
}

/** One offered transform in words, for mismatch events ("aes128-sha1-modp1024/psk"). */
export function describeTransform(t: TransformV1): string {
  const n = (type: number) => {
    const a = t.attributes.find((x) => x.type === type);
    return a === undefined ? undefined : attributeNumber(a);
  };
  const enc = n(IkeAttrV1.ENCRYPTION_ALGORITHM);
  const len = n(IkeAttrV1.KEY_LENGTH);
  const encName = enc === IkeEncryptionV1.AES_CBC
    ? `aes${len ?? 128}`
    : enc === IkeEncryptionV1["3DES_CBC"]
    ? "3des"
    : enc === IkeEncryptionV1.DES_CBC
    ? "des"
    : `encr#${enc}`;
  const hash = n(IkeAttrV1.HASH_ALGORITHM);
  const hashName = (hash !== undefined ? HASH_IDS[hash] : undefined) ?? `hash#${hash}`;
  const group = n(IkeAttrV1.GROUP_DESCRIPTION);
  const groupWord = group !== undefined ? groupName(group) : `group#${group}`;
  const auth = n(IkeAttrV1.AUTHENTICATION_METHOD);
  const authName = auth === AuthMethodV1.PRE_SHARED_KEY
    ? "psk"
    : auth === AuthMethodV1.RSA_SIGNATURES
    ? "rsasig"
    : auth !== undefined && auth >= 9 && auth <= 11
    ? "ecdsa"
    : `auth#${auth}`;
  return `${encName}-${hashName}-${groupWord}/${authName}`;
}

/** The outcome of a successful selection. */
export interface IkeSelection {
  /** The agreed algorithms. */
  readonly alg: Phase1Algorithms;
  /** The SA payload to answer with: the chosen proposal with only the chosen transform. */
  readonly response: SaPayloadV1;
}

/** Why nothing was chosen. */
export interface IkeMismatch {
  /** What the peer offered, in words. */
  readonly offered: string;
  /** What is configured. */
  readonly configured: string;
  /** A specific reason, when one stands out. */
  readonly reason: string;
}

interface Parsed {
  readonly cipher: CipherAlg;
  readonly keyLength: number;
  readonly hash: HashAlg;
  readonly group: number;
  readonly seconds: number | undefined;
  readonly kilobytes: number | undefined;
}

function parseTransform(t: TransformV1, methods: readonly number[]): Parsed | string {
  if (t.id !== IsakmpTransformV1.KEY_IKE) return `transform id ${t.id} is not KEY_IKE`;
  let enc: number | undefined, len: number | undefined, hash: number | undefined;
  let auth: number | undefined, group: number | undefined;
  let seconds: number | undefined, kilobytes: number | undefined;
  let lifeType: number | undefined;
  for (const a of t.attributes) {
    const v = attributeNumber(a);
    if (v === undefined) return `attribute ${a.type} has an unusable value`;
    switch (a.type) {
      case IkeAttrV1.ENCRYPTION_ALGORITHM:
        enc = v;
        break;
      case IkeAttrV1.KEY_LENGTH:
        len = v;
        break;
      case IkeAttrV1.HASH_ALGORITHM:
        hash = v;
        break;
      case IkeAttrV1.AUTHENTICATION_METHOD:
        auth = v;
        break;
      case IkeAttrV1.GROUP_DESCRIPTION:
        group = v;
        break;
      case IkeAttrV1.LIFE_TYPE:
        lifeType = v;
        break;
      case IkeAttrV1.LIFE_DURATION:
        // RFC 2407 §4.5: a duration applies to the life type right before it.
        // A zero duration (strongSwan without rekey/reauth time) means no limit offered.
        if (lifeType === LifeTypeV1.SECONDS) seconds = v === 0 ? undefined : v;
        else if (lifeType === LifeTypeV1.KILOBYTES) kilobytes = v === 0 ? undefined : v;
        else return "LIFE_DURATION without LIFE_TYPE";
        break;
      default:
        return `unsupported attribute ${a.type}`;
    }
  }
  if (auth === undefined || !methods.includes(auth)) {
    const want = methods.includes(AuthMethodV1.PRE_SHARED_KEY)
      ? "PSK"
      : `one of ${methods.join("/")}`;
    return `authentication method ${auth} is not ${want}`;
  }
  let cipher: CipherAlg | undefined;
  if (enc === IkeEncryptionV1.AES_CBC) {
    const bits = len ?? 128;
    cipher = bits === 128
      ? "aes128cbc"
      : bits === 192
      ? "aes192cbc"
      : bits === 256
      ? "aes256cbc"
      : undefined;
  } else if (enc === IkeEncryptionV1["3DES_CBC"] && len === undefined) cipher = "3descbc";
  if (cipher === undefined) return `cipher ${enc}/${len} unsupported`;
  const h = hash === undefined ? undefined : HASH_IDS[hash];
  if (h === undefined) return `hash ${hash} unsupported`;
  if (group === undefined || !SUPPORTED_GROUPS.has(group)) return `group ${group} unsupported`;
  const keyLength = cipher === "3descbc" ? 24 : (len ?? 128) / 8;
  return { cipher, keyLength, hash: h, group, seconds, kilobytes };
}

function allowed(p: Parsed, configured: readonly ConfiguredIke[]): ConfiguredIke | undefined {
  return configured.find((c) =>
    c.ciphers.some((x) => x.alg === p.cipher) && c.hashes.includes(p.hash) &&
    c.groups.includes(p.group)
  );
}

/**
 * Picks the first offered transform (in the peer's order of preference, RFC 2408 §4.2) that
 * one of the peer's configured proposals allows.
 */
export function selectIke(
  sa: SaPayloadV1,
  peer: PeerConfig,
  methods: readonly number[] = [AuthMethodV1.PRE_SHARED_KEY],
): IkeSelection | IkeMismatch {
  const configured = parseIkeProposals(peer.ike_proposals);
  const offered: string[] = [];
  let reason = "no offered transform matches";
  for (const prop of sa.proposals) {
    if (prop.protocol !== ProtocolV1.ISAKMP) {
      reason = `proposal ${prop.number} is for protocol ${prop.protocol}, not ISAKMP`;
      continue;
    }
    for (const t of prop.transforms) {
      offered.push(describeTransform(t));
      const p = parseTransform(t, methods);
      if (typeof p === "string") {
        reason = p;
        continue;
      }
      if (allowed(p, configured) === undefined) continue;
      const limit = peer.ike_lifetime;
      const lifetimeSeconds = Math.min(p.seconds ?? limit, limit);
      const hashWord = keyOf(HASHES, p.hash) ?? p.hash;
      const cipherWord = p.cipher === "3descbc" ? "3des" : `aes${p.keyLength * 8}`;
      const text = `${cipherWord}-${hashWord}-${groupName(p.group)}`;
      const chosen: ProposalV1 = { ...prop, transforms: [t] };
      return {
        alg: {
          cipher: p.cipher,
          keyLength: p.keyLength,
          hash: p.hash,
          prf: `hmac-${p.hash}` as PrfAlg,
          group: p.group as DhGroupId,
          auth: peer.auth,
          lifetimeSeconds: Math.max(1, lifetimeSeconds),
          lifetimeKilobytes: p.kilobytes ?? 0,
          text,
        },
        response: { ...sa, proposals: [chosen] },
      };
    }
  }
  return {
    offered: offered.join(", ") || "nothing",
    configured: peer.ike_proposals.join(", "),
    reason,
  };
}

/** Type guard for a mismatch. */
export function isIkeMismatch(r: IkeSelection | IkeMismatch): r is IkeMismatch {
  return "offered" in r;
}
