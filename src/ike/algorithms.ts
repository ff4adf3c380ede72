/**
 * The one algorithm vocabulary of both IKE versions: each strongSwan proposal keyword with its
 * role, the crypto layer's name for it, and its IKEv1 (RFC 2409 App. A, RFC 2407 §4.4.4/§4.5)
 * and IKEv2 (RFC 7296 §3.3.2, IANA "IKEv2 Transform Type" registries) identifiers. The config
 * checker, the IKEv1 proposal matchers and the IKEv2 proposal matcher all read this table.
 * Pure data plus lookups; no side effects.
 * @module
 */

import { ALL_GROUPS } from "../crypto/dh/groups.ts";
import type { AeadAlg, CipherAlg, HashAlg, MacAlg, PrfAlg } from "../crypto/types.ts";

/** What a keyword stands for in a proposal. */
export type AlgRole = "encr" | "aead" | "integ" | "prf" | "dh" | "esn";

/** One keyword of the vocabulary. */
export interface AlgorithmEntry {
  /** strongSwan keyword ("aes256", "prfsha256", "ecp256"). */
  readonly keyword: string;
  /** Its role in a proposal. */
  readonly role: AlgRole;
  /** Allowed only with `profile = "legacy"` (RFC 8247, RFC 8221). */
  readonly legacy?: true;
  /** Key length in bits for ciphers and AEADs. */
  readonly keyBits?: number;
  /** CBC cipher of the crypto layer. */
  readonly cipher?: CipherAlg;
  /** AEAD of the crypto layer. */
  readonly aead?: AeadAlg;
  /** Truncated integrity algorithm of the crypto layer (ESP, IKEv2 SK). */
  readonly mac?: MacAlg;
  /** Plain hash (IKEv1 Phase 1 hash, IKEv2 NAT detection uses SHA-1 always). */
  readonly hash?: HashAlg;
  /** PRF: for "prf…" keywords, and the PRF an integrity keyword implies in IKEv1/IKEv2. */
  readonly prf?: PrfAlg;
  /** DH group number (same in both versions). */
  readonly group?: number;
  /** ESN on or off. */
  readonly esn?: boolean;
  /** IKEv1 identifiers: Phase 1 encryption/hash attribute values, ESP transform / auth IDs. */
  readonly v1?: {
    readonly ikeEncr?: number;
    readonly ikeHash?: number;
    readonly espTransform?: number;
    readonly espAuth?: number;
  };
  /** IKEv2 transform type and ID (RFC 7296 §3.3.2). */
  readonly v2?: { readonly type: number; readonly id: number };
}

// IKEv2 transform types (RFC 7296 §3.3.2); kept as literals so this table imports no codec.
const ENCR = 1;
const PRF = 2;
const INTEG = 3;
const DH = 4;
const ESN = 5;

const cbc = (keyword: string, cipher: CipherAlg, keyBits: number): AlgorithmEntry => ({
  keyword,
  role: "encr",
  cipher,
  keyBits,
  v1: { ikeEncr: 7, espTransform: 12 },
  v2: { type: ENCR, id: 12 },
});

const group = (keyword: string, id: number, legacy = false): AlgorithmEntry => ({
  keyword,
  role: "dh",
  group: id,
  ...(legacy ? { legacy: true as const } : {}),
  v2: { type: DH, id },
});

/** Every keyword this gateway knows. */
export const ALGORITHMS: readonly AlgorithmEntry[] = [
  cbc("aes128", "aes128cbc", 128),
  cbc("aes192", "aes192cbc", 192),
  cbc("aes256", "aes256cbc", 256),
  {
    keyword: "3des",
    role: "encr",
    cipher: "3descbc",
    keyBits: 192,
    v1: { ikeEncr: 5, espTransform: 3 },
    v2: { type: ENCR, id: 3 },
  },
  { keyword: "des", role: "encr", legacy: true, v1: { ikeEncr: 1, espTransform: 2 } },
  // RFC 4106 / RFC 5282: AES-GCM with a 16-octet ICV; RFC 7634: ChaCha20-Poly1305.
  {
    keyword: "aes128gcm16",
    role: "aead",
    aead: "aes128gcm16",
    keyBits: 128,
    v1: { espTransform: 20 },
    v2: { type: ENCR, id: 20 },
  },
  {
    keyword: "aes256gcm16",
    role: "aead",
    aead: "aes256gcm16",
    keyBits: 256,
    v1: { espTransform: 20 },
    v2: { type: ENCR, id: 20 },
  },
  {
    keyword: "chacha20poly1305",
    role: "aead",
    aead: "chacha20poly1305",
    keyBits: 256,
    v2: { type: ENCR, id: 28 },
  },
  {
    keyword: "md5",
    role: "integ",
    legacy: true,
    hash: "md5",
    prf: "hmac-md5",
    v1: { ikeHash: 1, espAuth: 1 },
    v2: { type: INTEG, id: 1 },
  },
  {
    keyword: "sha1",
    role: "integ",
    mac: "hmac-sha1-96",
    hash: "sha1",
    prf: "hmac-sha1",
    v1: { ikeHash: 2, espAuth: 2 },
    v2: { type: INTEG, id: 2 },
  },
  {
    keyword: "sha256",
    role: "integ",
    mac: "hmac-sha256-128",
    hash: "sha256",
    prf: "hmac-sha256",
    v1: { ikeHash: 4, espAuth: 5 },
    v2: { type: INTEG, id: 12 },
  },
  {
    keyword: "sha384",
    role: "integ",
    mac: "hmac-sha384-192",
    hash: "sha384",
    prf: "hmac-sha384",
    v1: { ikeHash: 5, espAuth: 6 },
    v2: { type: INTEG, id: 13 },
  },
  {
    keyword: "sha512",
    role: "integ",
    mac: "hmac-sha512-256",
    hash: "sha512",
    prf: "hmac-sha512",
    v1: { ikeHash: 6, espAuth: 7 },
    v2: { type: INTEG, id: 14 },
  },
  {
    keyword: "aesxcbc",
    role: "integ",
    mac: "aes-xcbc-96",
    prf: "aes-xcbc-prf128",
    v1: { espAuth: 9 },
    v2: { type: INTEG, id: 5 },
  },
  { keyword: "prfmd5", role: "prf", legacy: true, prf: "hmac-md5", v2: { type: PRF, id: 1 } },
  { keyword: "prfsha1", role: "prf", prf: "hmac-sha1", v2: { type: PRF, id: 2 } },
  { keyword: "prfsha256", role: "prf", prf: "hmac-sha256", v2: { type: PRF, id: 5 } },
  { keyword: "prfsha384", role: "prf", prf: "hmac-sha384", v2: { type: PRF, id: 6 } },
  { keyword: "prfsha512", role: "prf", prf: "hmac-sha512", v2: { type: PRF, id: 7 } },
  { keyword: "prfaesxcbc", role: "prf", prf: "aes-xcbc-prf128", v2: { type: PRF, id: 4 } },
  group("modp768", 1, true),
  group("modp1024", 2, true),
  group("modp1536", 5),
  group("modp2048", 14),
  group("modp3072", 15),
  group("modp4096", 16),
  group("modp8192", 18),
  group("ecp256", 19),
  group("ecp384", 20),
  group("ecp521", 21),
  group("curve25519", 31),
  group("curve448", 32),
  { keyword: "esn", role: "esn", esn: true, v2: { type: ESN, id: 1 } },
  { keyword: "noesn", role: "esn", esn: false, v2: { type: ESN, id: 0 } },
];

const BY_KEYWORD: ReadonlyMap<string, AlgorithmEntry> = new Map(
  ALGORITHMS.map((a) => [a.keyword, a]),
);

/** The entry of a keyword, if known. */
export function algorithm(keyword: string): AlgorithmEntry | undefined {
  return BY_KEYWORD.get(keyword);
}

/** Keywords of one role mapped to a field of their entry (entries without it left out). */
export function keywordTable<K extends keyof AlgorithmEntry>(
  role: AlgRole,
  field: K,
): Readonly<Record<string, NonNullable<AlgorithmEntry[K]>>> {
  const out: Record<string, NonNullable<AlgorithmEntry[K]>> = {};
  for (const a of ALGORITHMS) {
    const v = a[field];
    if (a.role === role && v !== undefined && v !== null) out[a.keyword] = v;
  }
  return out;
}

/** strongSwan group keyword → group number. */
export const GROUP_KEYWORDS: Readonly<Record<string, number>> = keywordTable("dh", "group");

/** Groups the crypto layer implements (a configured keyword outside it cannot be used). */
export const SUPPORTED_GROUPS: ReadonlySet<number> = new Set<number>(ALL_GROUPS);

/** The keyword of a group number ("modp2048"), or "group#N". */
export function groupName(id: number): string {
  return Object.keys(GROUP_KEYWORDS).find((k) => GROUP_KEYWORDS[k] === id) ?? `group#${id}`;
}

/** The keyword of an IKEv2 transform (type, id, key bits), or `type#id`. */
export function v2Keyword(type: number, id: number, keyBits?: number): string {
  const hit = ALGORITHMS.find((a) =>
    a.v2?.type === type && a.v2.id === id &&
    (a.keyBits === undefined || keyBits === undefined || a.keyBits === keyBits) &&
    !(type === INTEG && a.role !== "integ")
  );
  if (hit !== undefined) return hit.keyword;
  const names = ["", "encr", "prf", "integ", "dh", "esn"];
  return `${names[type] ?? "type" + type}#${id}${keyBits === undefined ? "" : "/" + keyBits}`;
}
