/**
 * strongSwan-style proposal keywords → IKEv2 transforms (RFC 7296 §3.3.2) for the scripted
 * initiator, and the key sizes a chosen proposal implies (RFC 7296 §2.13, §2.14, §2.17;
 * RFC 5282 §7.1 and RFC 7634 §3 for the 4-byte AEAD salt).
 * @module
 */

import { DH, ENCR, type EncrAlg, INTEG, PRF, Proto, Tt } from "./consts.ts";
import type { SkSuite } from "./sk.ts";
import type { Proposal, Transform } from "./wire.ts";

/** A parsed keyword proposal. */
export interface Suite {
  /** Encryption. */
  readonly encr: EncrAlg;
  /** Encryption keyword. */
  readonly encrName: string;
  /** Integrity (absent for AEAD). */
  readonly integ?: {
    readonly id: number;
    readonly hash: string;
    readonly key: number;
    readonly icv: number;
  };
  /** PRF (IKE only). */
  readonly prf?: { readonly id: number; readonly hash: string };
  /** DH groups in order. */
  readonly dh: readonly number[];
  /** ESN values offered (ESP only). */
  readonly esn: readonly number[];
}

/** Parses "aes128gcm16-prfsha256-ecp256", "aes128-sha256-modp3072", "aes256gcm16-esn". */
export function parseSuite(s: string, kind: "ike" | "esp"): Suite {
  let encr: EncrAlg | undefined;
  let encrName = "";
  let integ: Suite["integ"];
  let prf: Suite["prf"];
  const dh: number[] = [];
  const esn: number[] = [];
  for (const tok of s.split("-")) {
    if (ENCR[tok] !== undefined) {
      encr = ENCR[tok];
      encrName = tok;
    } else if (INTEG[tok] !== undefined) integ = INTEG[tok];
    else if (PRF[tok] !== undefined) prf = PRF[tok];
    else if (DH[tok] !== undefined) dh.push(DH[tok]!);
    else if (tok === "esn") esn.push(1);
    else if (tok === "noesn") esn.push(0);
    else throw new Error(`unknown keyword ${tok} in ${s}`);
  }
  if (encr === undefined) throw new Error(`no encryption in ${s}`);
  if (encr.icv === 0 && integ === undefined) throw new Error(`no integrity in ${s}`);
  if (kind === "ike") {
    // strongSwan takes the PRF from the integrity hash when none is named.
    if (prf === undefined && integ !== undefined) {
      prf = Object.values(PRF).find((p) => p.hash === integ!.hash);
    }
    if (prf === undefined) throw new Error(`no PRF in ${s}`);
    if (dh.length === 0) throw new Error(`no DH group in ${s}`);
  }
  const out: Suite = { encr, encrName, dh, esn: kind === "esp" && esn.length === 0 ? [0] : esn };
  return {
    ...out,
    ...(integ === undefined ? {} : { integ }),
    ...(prf === undefined ? {} : { prf }),
  };
}

/** The transforms of `s` (DH left out when `withDh` is false: IKE_AUTH children). */
export function transforms(s: Suite, withDh = true): Transform[] {
  const out: Transform[] = [
    s.encr.keyAttr
      ? { type: Tt.ENCR, id: s.encr.id, keyBits: s.encr.keyBits }
      : { type: Tt.ENCR, id: s.encr.id },
  ];
  if (s.prf !== undefined) out.push({ type: Tt.PRF, id: s.prf.id });
  if (s.integ !== undefined) out.push({ type: Tt.INTEG, id: s.integ.id });
  if (withDh) { for (const g of s.dh) out.push({ type: Tt.DH, id: g }); }
  for (const e of s.esn) out.push({ type: Tt.ESN, id: e });
  return out;
}

/** Proposals for `suites`, numbered from 1, protocol IKE or ESP with `spi`. */
export function proposals(
  suites: readonly Suite[],
  protocol: number,
  spi: Uint8Array,
  withDh = true,
): Proposal[] {
  return suites.map((s, i) => ({ num: i + 1, protocol, spi, transforms: transforms(s, withDh) }));
}

/**
 * Which of our suites a responder's single-proposal answer picked: the suite whose transforms
 * contain every transform in the answer, one per type. Throws when none does (the responder
 * chose something we did not offer).
 */
export function chosen(
  suites: readonly Suite[],
  answer: readonly Proposal[],
  protocol: number,
  withDh = true,
): { suite: Suite; index: number; proposal: Proposal; dh: number | undefined } {
  if (answer.length !== 1) throw new Error(`answer has ${answer.length} proposals, want 1`);
  const p = answer[0]!;
  if (p.protocol !== protocol) throw new Error(`answer protocol ${p.protocol}, want ${protocol}`);
  const types = p.transforms.map((t) => t.type);
  if (new Set(types).size !== types.length) throw new Error("answer repeats a transform type");
  for (let i = 0; i < suites.length; i++) {
    const offered = transforms(suites[i]!, withDh);
    const all = p.transforms.every((t) =>
      offered.some((o) => o.type === t.type && o.id === t.id && o.keyBits === t.keyBits)
    );
    const typesOk = new Set(offered.map((o) => o.type)).size === types.length;
    if (all && typesOk && p.num === i + 1) {
      const dh = p.transforms.find((t) => t.type === Tt.DH)?.id;
      return { suite: suites[i]!, index: i, proposal: p, dh };
    }
  }
  throw new Error(`answer ${JSON.stringify(p.transforms)} (#${p.num}) was not offered`);
}

/** SK protection for an IKE suite. */
export function skSuite(s: Suite): SkSuite {
  return s.integ === undefined
    ? { encr: s.encr }
    : { encr: s.encr, integ: { hash: s.integ.hash, icv: s.integ.icv } };
}

/** IKE key sizes (RFC 7296 §2.14; HMAC PRF keys are the output size). */
export function ikeKeySizes(s: Suite): { prf: number; encr: number; integ: number } {
  const prfLen = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 }[s.prf!.hash as "sha1"];
  return { prf: prfLen, encr: encrKeyLen(s), integ: s.integ?.key ?? 0 };
}

/** Encryption key bytes including the AEAD salt. */
export function encrKeyLen(s: Suite): number {
  return s.encr.keyBits / 8 + (s.encr.icv > 0 ? 4 : 0);
}

/** Protocol IDs re-exported for callers. */
export { Proto };
