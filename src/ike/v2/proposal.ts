/**
 * IKEv2 proposal selection (RFC 7296 §2.7, §3.3.6): every offered proposal against every
 * configured one (strongSwan keyword syntax from the shared vocabulary, src/ike/algorithms.ts),
 * one transform of each type chosen, the answer carrying exactly the chosen transforms. IKE SA
 * proposals need ENCR, PRF (implied by the integrity keyword in strongSwan syntax when not
 * given), INTEG unless the cipher is an AEAD, and a DH group; ESP proposals need ENCR, INTEG
 * unless AEAD, ESN, and a DH group only for PFS in CREATE_CHILD_SA. Pure.
 * @module
 */

import type { DhGroupId, PrfAlg } from "../../crypto/types.ts";
import type { EspTransform } from "../../esp/sa_spec.ts";
import { algorithm, type AlgorithmEntry, SUPPORTED_GROUPS, v2Keyword } from "../algorithms.ts";
import { attributeNumber, findAttribute, numberAttribute } from "../message/attributes.ts";
import { ProtocolV2, TransformAttrV2, TransformTypeV2 } from "../message/v2/registry.ts";
import type { ProposalV2, SaPayloadV2, TransformV2 } from "../message/v2/types.ts";
import type { SkAlgorithms } from "./protect.ts";

const T = TransformTypeV2;

/** One configured proposal expanded to the transforms it allows, per type, in order. */
export interface ConfiguredV2 {
  /** As configured. */
  readonly text: string;
  /** Allowed transforms per transform type. */
  readonly byType: ReadonlyMap<number, readonly AlgorithmEntry[]>;
}

/** The IKE SA algorithms agreed. */
export type IkeAlgorithmsV2 = SkAlgorithms & {
  /** PRF. */
  readonly prf: PrfAlg;
  /** DH group. */
  readonly group: DhGroupId;
  /** Proposal syntax of what was chosen ("aes128gcm16-prfsha256-ecp256"). */
  readonly text: string;
};

/** The ESP algorithms agreed. */
export interface EspAlgorithmsV2 {
  /** Transform for the data path. */
  readonly transform: EspTransform;
  /** Extended sequence numbers. */
  readonly esn: boolean;
  /** PFS group, 0 without. */
  readonly group: number;
  /** Proposal syntax of the transform only ("aes128gcm16", "aes256-sha256"). */
  readonly transformName: string;
  /** Proposal syntax including the group. */
  readonly text: string;
}

/** A successful selection. */
export interface SelectedV2<A> {
  /** Discriminant. */
  readonly ok: true;
  /** The offered proposal that was chosen (its SPI is the peer's). */
  readonly offered: ProposalV2;
  /** The chosen transforms as the answer's proposal (the caller sets our SPI). */
  readonly answer: ProposalV2;
  /** The algorithms. */
  readonly alg: A;
}

/** Nothing acceptable: both sides in words for the log line. */
export interface MismatchV2 {
  /** Discriminant. */
  readonly ok: false;
  /** Offered proposals in keyword syntax, joined by ", ". */
  readonly offered: string;
  /** Configured proposals, joined by ", ". */
  readonly configured: string;
}

/**
 * Expands configured texts. For IKE proposals without a PRF keyword the PRFs implied by the
 * integrity keywords are allowed (strongSwan does the same). Keywords with no IKEv2 form (des)
 * or not implemented leave their type empty, so such a proposal matches nothing.
 */
export function parseV2Proposals(texts: readonly string[], kind: "ike" | "esp"): ConfiguredV2[] {
  return texts.map((text) => {
    const byType = new Map<number, AlgorithmEntry[]>();
    const add = (type: number, a: AlgorithmEntry) => {
      const list = byType.get(type) ?? [];
      if (!list.includes(a)) list.push(a);
      byType.set(type, list);
    };
    let unusable = false;
    for (const w of text.split("-")) {
      const a = algorithm(w);
      if (a === undefined || a.v2 === undefined) {
        unusable = true;
        continue;
      }
      if (a.role === "dh" && !SUPPORTED_GROUPS.has(a.group!)) unusable = true;
      if (a.role === "encr" && a.cipher === undefined) unusable = true;
      if (a.role === "integ" && a.mac === undefined) unusable = true;
      add(a.v2.type, a);
    }
    if (kind === "ike" && !byType.has(T.PRF)) {
      for (const i of byType.get(T.INTEG) ?? []) {
        const prf = [...PRF_ENTRIES].find((p) => p.prf === i.prf);
        if (prf !== undefined) add(T.PRF, prf);
      }
    }
    if (kind === "esp" && !byType.has(T.ESN)) add(T.ESN, algorithm("noesn")!);
    return { text, byType: unusable ? new Map() : byType };
  });
}

const PRF_ENTRIES = ["prfmd5", "prfsha1", "prfsha256", "prfsha384", "prfsha512", "prfaesxcbc"]
  .map((k) => algorithm(k)!);

/** The key length attribute of a transform, if any (RFC 7296 §3.3.5). */
function keyBits(t: TransformV2): number | undefined {
  const a = findAttribute(t.attributes, TransformAttrV2.KEY_LENGTH);
  return a === undefined ? undefined : attributeNumber(a);
}

/** Whether an offered transform is the configured entry (key length decides AES). */
function matches(t: TransformV2, a: AlgorithmEntry): boolean {
  if (a.v2 === undefined || a.v2.type !== t.type || a.v2.id !== t.id) return false;
  if (t.type !== T.ENCR) return t.attributes.length === 0;
  // RFC 7296 §3.3.5: AES needs its key length; ChaCha20-Poly1305 has none (RFC 7634 §2).
  const bits = keyBits(t);
  return a.aead === "chacha20poly1305" ? bits === undefined : bits === a.keyBits;
}

/** An offered proposal in keyword syntax, one alternative per type joined by "/". */
export function describeProposal(p: ProposalV2): string {
  const types = [T.ENCR, T.INTEG, T.PRF, T.DH, T.ESN];
  return types
    .map((type) =>
      p.transforms.filter((t) => t.type === type).map((t) => v2Keyword(t.type, t.id, keyBits(t)))
        .join("/")
    )
    .filter((s) => s !== "")
    .join("-");
}

interface Choice {
  readonly transforms: TransformV2[];
  readonly entries: Map<number, AlgorithmEntry>;
}

/**
 * Picks one transform per type from `offered` allowed by `conf`: `required` types must be
 * matched; a type the proposal does not list in `conf` must not be offered either, except DH
 * where `dh` says: "required" (IKE SA, PFS), "none" (IKE_AUTH child: any DH offer is ignored,
 * NONE when listed).
 */
function choose(
  offered: ProposalV2,
  conf: ConfiguredV2,
  types: readonly number[],
  dh: "required" | "none",
): Choice | undefined {
  const transforms: TransformV2[] = [];
  const entries = new Map<number, AlgorithmEntry>();
  for (const type of types) {
    const offers = offered.transforms.filter((t) => t.type === type);
    if (type === T.DH && dh === "none") continue;
    const allowed = conf.byType.get(type) ?? [];
    if (offers.length === 0 && allowed.length === 0) continue;
    let hit: { t: TransformV2; a: AlgorithmEntry } | undefined;
    for (const a of allowed) {
      const t = offers.find((o) => matches(o, a));
      if (t !== undefined) {
        hit = { t, a };
        break;
      }
    }
    if (hit === undefined) return undefined;
    transforms.push(hit.t);
    entries.set(type, hit.a);
  }
  return { transforms, entries };
}

function sameTypesAsRequired(c: Choice, aead: boolean, kind: "ike" | "esp"): boolean {
  const has = (t: number) => c.entries.has(t);
  if (!has(T.ENCR)) return false;
  if (aead && has(T.INTEG)) return false;
  if (!aead && !has(T.INTEG)) return false;
  if (kind === "ike") return has(T.PRF) && has(T.DH);
  return has(T.ESN);
}

function select<A>(
  sa: SaPayloadV2,
  configured: readonly ConfiguredV2[],
  protocol: number,
  kind: "ike" | "esp",
  dh: "required" | "none",
  build: (c: Choice) => A,
): SelectedV2<A> | MismatchV2 {
  const types = kind === "ike" ? [T.ENCR, T.PRF, T.INTEG, T.DH] : [T.ENCR, T.INTEG, T.DH, T.ESN];
  // Our preference first (configured order), then the peer's order among its proposals.
  for (const conf of configured) {
    for (const offered of sa.proposals) {
      if (offered.protocol !== protocol) continue;
      const c = choose(offered, conf, types, dh);
      if (c === undefined) continue;
      const aead = c.entries.get(T.ENCR)?.role === "aead";
      if (!sameTypesAsRequired(c, aead, kind)) continue;
      const answer: ProposalV2 = {
        number: offered.number,
        protocol,
        spi: offered.spi,
        transforms: c.transforms.map((t) => ({
          type: t.type,
          id: t.id,
          attributes: t.type === T.ENCR && keyBits(t) !== undefined
            ? [numberAttribute(TransformAttrV2.KEY_LENGTH, keyBits(t)!)]
            : [],
        })),
      };
      return { ok: true, offered, answer, alg: build(c) };
    }
  }
  return {
    ok: false,
    offered: sa.proposals.map(describeProposal).join(", ") || "(none)",
    configured: configured.map((c) => c.text).join(", "),
  };
}

/**
 * The algorithms of a chosen ENCR (and INTEG) entry, for the SK payload or ESP: an AEAD alone
 * or a cipher with its integrity algorithm (config check refuses proposals of another shape).
 */
function skAlgorithms(e: AlgorithmEntry, i: AlgorithmEntry | undefined): SkAlgorithms {
  if (e.aead !== undefined) return { aead: e.aead };
  if (e.cipher === undefined || i?.mac === undefined) {
    throw new Error(`'${e.keyword}' is neither an AEAD nor a cipher with an integrity algorithm`);
  }
  return { cipher: e.cipher, integ: i.mac };
}

/** Selects the IKE SA proposal (IKE_SA_INIT, or an IKE SA rekey). */
export function selectIkeV2(
  sa: SaPayloadV2,
  configured: readonly ConfiguredV2[],
): SelectedV2<IkeAlgorithmsV2> | MismatchV2 {
  return select(sa, configured, ProtocolV2.IKE, "ike", "required", (c) => {
    const e = c.entries.get(T.ENCR)!;
    const i = c.entries.get(T.INTEG);
    const p = c.entries.get(T.PRF)!;
    const g = c.entries.get(T.DH)!;
    return {
      ...skAlgorithms(e, i),
      prf: p.prf!,
      group: g.group as DhGroupId,
      text: [e.keyword, i?.keyword, p.keyword, g.keyword].filter((x) => x !== undefined)
        .join("-"),
    };
  });
}

/**
 * Selects an ESP proposal. `pfs`: "none" in IKE_AUTH (RFC 7296 §1.2: no KE there; a DH
 * transform offered is ignored), "required" in CREATE_CHILD_SA when the configured proposal
 * has a group (the KE payload must then be in that group).
 */
export function selectEspV2(
  sa: SaPayloadV2,
  configured: readonly ConfiguredV2[],
  pfs: "none" | "as-configured",
): SelectedV2<EspAlgorithmsV2> | MismatchV2 {
  const withDh = configured.filter((c) => c.byType.has(T.DH));
  const withoutDh = configured.filter((c) => !c.byType.has(T.DH));
  const build = (c: Choice): EspAlgorithmsV2 => {
    const e = c.entries.get(T.ENCR)!;
    const i = c.entries.get(T.INTEG);
    const g = c.entries.get(T.DH);
    const sk = skAlgorithms(e, i);
    const transform: EspTransform = sk.aead !== undefined
      ? { kind: "aead", alg: sk.aead }
      : { kind: "cipher+mac", cipher: sk.cipher, mac: sk.integ };
    const transformName = i === undefined ? e.keyword : `${e.keyword}-${i.keyword}`;
    const esn = c.entries.get(T.ESN)?.esn ?? false;
    return {
      transform,
      esn,
      group: g?.group ?? 0,
      transformName,
      text: g === undefined ? transformName : `${transformName}-${g.keyword}`,
    };
  };
  if (pfs === "none") {
    return select(sa, configured, ProtocolV2.ESP, "esp", "none", build);
  }
  // CREATE_CHILD_SA: proposals with a group need the peer's DH; without, none may be offered.
  const a = select(sa, withDh, ProtocolV2.ESP, "esp", "required", build);
  if (a.ok) return a;
  const b = select(sa, withoutDh, ProtocolV2.ESP, "esp", "none", build);
  if (b.ok) {
    const offeredDh = b.offered.transforms.some((t) => t.type === T.DH && t.id !== 0);
    const offeredNone = b.offered.transforms.some((t) => t.type === T.DH && t.id === 0);
    if (!offeredDh || offeredNone) return b;
  }
  return { ...a, configured: configured.map((c) => c.text).join(", ") } as MismatchV2;
}
