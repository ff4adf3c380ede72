/**
 * strongSwan's `--list-sas` algorithm names (AES_CBC + 256, HMAC_SHA2_256_128, MODP_2048) in
 * the keyword syntax branchgate's config and `show` output use (aes256-sha256-modp2048), so
 * both sides' views of one SA can be compared as strings.
 * @module
 */

import type { ChildSaInfo, IkeSaInfo } from "./list_sas.ts";

const INTEG: Readonly<Record<string, string>> = {
  HMAC_MD5_96: "md5",
  HMAC_SHA1_96: "sha1",
  HMAC_SHA2_256_128: "sha256",
  HMAC_SHA2_384_192: "sha384",
  HMAC_SHA2_512_256: "sha512",
  AES_XCBC_96: "aesxcbc",
};

const GROUP: Readonly<Record<string, string>> = {
  MODP_768: "modp768",
  MODP_1024: "modp1024",
  MODP_1536: "modp1536",
  MODP_2048: "modp2048",
  MODP_3072: "modp3072",
  MODP_4096: "modp4096",
  MODP_8192: "modp8192",
  ECP_256: "ecp256",
  ECP_384: "ecp384",
  ECP_521: "ecp521",
  CURVE_25519: "curve25519",
  CURVE_448: "curve448",
};

const PRF: Readonly<Record<string, string>> = {
  PRF_HMAC_SHA1: "sha1",
  PRF_HMAC_SHA2_256: "sha256",
  PRF_HMAC_SHA2_384: "sha384",
  PRF_HMAC_SHA2_512: "sha512",
};

/** A name strongSwan printed that this table does not know. */
export class UnknownAlgorithmError extends Error {
  /** Builds the error for `name`. */
  constructor(name: string) {
    super(`unknown strongSwan algorithm name '${name}'`);
    this.name = "UnknownAlgorithmError";
  }
}

/** Keyword of an encryption algorithm and key size: AES_CBC 256 → aes256. */
export function encrKeyword(alg: string, bits: number | undefined): string {
  const size = bits ?? 0;
  switch (alg) {
    case "AES_CBC":
      return `aes${size}`;
    case "AES_GCM_16":
      return `aes${size}gcm16`;
    case "CHACHA20_POLY1305":
      return "chacha20poly1305";
    case "3DES_CBC":
      return "3des";
    default:
      throw new UnknownAlgorithmError(alg);
  }
}

function lookup(table: Readonly<Record<string, string>>, name: string): string {
  const v = table[name];
  if (v === undefined) throw new UnknownAlgorithmError(name);
  return v;
}

/**
 * An IKE SA's algorithms as one proposal string, e.g. "aes256-sha256-modp2048"; IKEv2 SAs
 * name their PRF ("aes128gcm16-prfsha256-ecp256", "aes256-sha256-prfsha256-modp3072").
 */
export function ikeProposal(sa: IkeSaInfo): string {
  const parts = [encrKeyword(sa.encrAlg, sa.encrKeysize)];
  const integ = sa.integAlg === undefined ? undefined : lookup(INTEG, sa.integAlg);
  if (integ !== undefined) parts.push(integ);
  if (sa.version === 2 && sa.prfAlg !== undefined) {
    parts.push(`prf${lookup(PRF, sa.prfAlg)}`);
  }
  if (sa.dhGroup !== undefined) parts.push(lookup(GROUP, sa.dhGroup));
  return parts.join("-");
}

/** A CHILD_SA's transform without PFS group, e.g. "aes128gcm16" or "aes128-sha256". */
export function espTransform(child: ChildSaInfo): string {
  const parts = [encrKeyword(child.encrAlg, child.encrKeysize)];
  if (child.integAlg !== undefined) parts.push(lookup(INTEG, child.integAlg));
  return parts.join("-");
}

/** The PFS group of a CHILD_SA as a keyword, or undefined without PFS. */
export function pfsGroup(child: ChildSaInfo): string | undefined {
  return child.dhGroup === undefined ? undefined : lookup(GROUP, child.dhGroup);
}
