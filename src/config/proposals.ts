/**
 * Proposal strings in strongSwan keyword syntax (`aes256-sha256-modp3072`,
 * `aes256gcm16-ecp256`) as the config accepts them, and the secure-default policy on them:
 * MODP-768/1024 (RFC 8247 §2.4), DES (RFC 8221 §5) and MD5 (RFC 8247 §2.3) only when the peer
 * has `profile = "legacy"`.
 * @module
 */

import { algorithm, ALGORITHMS, type AlgRole } from "../ike/algorithms.ts";

type Role = AlgRole;

/** The keywords this gateway implements, with their role. */
const KEYWORDS: ReadonlyMap<string, Role> = new Map(ALGORITHMS.map((a) => [a.keyword, a.role]));

/** Keywords allowed only with the legacy profile. */
export const LEGACY_KEYWORDS: ReadonlySet<string> = new Set(
  ALGORITHMS.filter((a) => a.legacy).map((a) => a.keyword),
);

/** Every keyword, for completion and help. */
export function proposalKeywords(): string[] {
  return [...KEYWORDS.keys()];
}

/**
 * Why `text` is not an acceptable `kind` proposal for a peer with `profile`, or undefined when
 * it is fine. IKEv1 Phase 1 (RFC 2409 App. A) needs a cipher, a hash and a group, and takes no
 * AEAD; ESP (RFC 4303 §3.2) needs an AEAD, or a cipher and an integrity algorithm; its group,
 * if any, is the PFS group.
 */
export function proposalProblem(
  kind: "ike" | "esp",
  text: string,
  profile: "default" | "legacy",
  version: 1 | 2 = 1,
): string | undefined {
  const seen = new Map<Role, string[]>();
  for (const word of text.split("-")) {
    const role = KEYWORDS.get(word);
    if (role === undefined) return `unknown algorithm '${word}'`;
    if (version === 2 && algorithm(word)?.v2 === undefined) {
      return `'${word}' has no IKEv2 form`;
    }
    if (LEGACY_KEYWORDS.has(word) && profile !== "legacy") {
      return `'${word}' is a legacy algorithm; set profile legacy for this peer to allow it`;
    }
    const list = seen.get(role) ?? [];
    list.push(word);
    seen.set(role, list);
  }
  const has = (r: Role) => (seen.get(r)?.length ?? 0) > 0;
  if (kind === "ike" && version === 2) {
    // RFC 7296 §3.3.3: ENCR, PRF, INTEG (none with an AEAD, RFC 5282 §8) and D-H.
    if (has("esn")) return "esn applies to ESP proposals only";
    if (has("aead") && has("encr")) return "mixes an AEAD with a plain cipher";
    if (!has("aead") && !has("encr")) return "needs an encryption algorithm (or an AEAD)";
    if (has("aead") && has("integ")) return "an AEAD needs no integrity algorithm";
    if (has("aead") && !has("prf")) return "an AEAD needs a PRF, e.g. aes128gcm16-prfsha256-ecp256";
    if (!has("aead") && !has("integ")) return "needs an integrity algorithm";
    if (!has("dh")) return "needs a Diffie-Hellman group";
    return undefined;
  }
  if (kind === "ike") {
    if (has("aead")) return "IKEv1 has no AEAD ciphers for the IKE SA; use e.g. aes256-sha256";
    if (has("esn")) return "esn applies to ESP proposals only";
    if (!has("encr")) return "needs an encryption algorithm";
    if (!has("integ") && !has("prf")) return "needs an integrity/hash algorithm";
    if (!has("dh")) return "needs a Diffie-Hellman group";
    return undefined;
  }
  if (has("prf")) return "prf algorithms apply to IKE proposals only";
  if (has("aead")) {
    if (has("encr")) return "mixes an AEAD with a plain cipher";
    if (has("integ")) return "an AEAD needs no integrity algorithm";
    return undefined;
  }
  if (!has("encr")) return "needs an encryption algorithm (or an AEAD)";
  if (!has("integ")) return "needs an integrity algorithm";
  return undefined;
}
