/**
 * What we offer when we start an exchange (RFC 7296 §2.7, §3.3): the configured proposals
 * (strongSwan keyword syntax, expanded by proposal.ts's {@link parseV2Proposals}) as SA payload
 * proposals numbered from 1, every allowed transform of each type in configured order, AES key
 * lengths as the Key Length attribute (§3.3.5). The answer is checked with the same selection
 * code the responder uses (selectIkeV2 / selectEspV2), so offering and choosing cannot drift.
 * Pure.
 * @module
 */

import type { AlgorithmEntry } from "../algorithms.ts";
import { numberAttribute } from "../message/attributes.ts";
import { ProtocolV2, TransformAttrV2, TransformTypeV2 } from "../message/v2/registry.ts";
import type { ProposalV2, TransformV2 } from "../message/v2/types.ts";
import { parseV2Proposals } from "./proposal.ts";

const T = TransformTypeV2;

/** The transform of a vocabulary entry (the inverse of proposal.ts's matching rule). */
function transformOf(a: AlgorithmEntry): TransformV2 {
  const v2 = a.v2!;
  const withLength = v2.type === T.ENCR && a.aead !== "chacha20poly1305" &&
    a.keyBits !== undefined;
  return {
    type: v2.type,
    id: v2.id,
    attributes: withLength ? [numberAttribute(TransformAttrV2.KEY_LENGTH, a.keyBits!)] : [],
  };
}

/**
 * Our proposals for an SA payload: `kind` "ike" (IKE_SA_INIT, IKE SA rekey) or "esp";
 * `withDh` false leaves DH transforms out (RFC 7296 §1.2: the first CHILD_SA in IKE_AUTH has
 * no KE). `spi` is ours (empty for IKE_SA_INIT, §3.3.1). Unusable configured proposals are
 * skipped.
 */
export function offerV2(
  texts: readonly string[],
  kind: "ike" | "esp",
  spi: Uint8Array,
  withDh = true,
): ProposalV2[] {
  const order = kind === "ike" ? [T.ENCR, T.PRF, T.INTEG, T.DH] : [T.ENCR, T.INTEG, T.DH, T.ESN];
  const out: ProposalV2[] = [];
  for (const conf of parseV2Proposals(texts, kind)) {
    if (conf.byType.size === 0) continue;
    const transforms: TransformV2[] = [];
    for (const type of order) {
      if (type === T.DH && !withDh) continue;
      for (const a of conf.byType.get(type) ?? []) transforms.push(transformOf(a));
    }
    out.push({
      number: out.length + 1,
      protocol: kind === "ike" ? ProtocolV2.IKE : ProtocolV2.ESP,
      spi,
      transforms,
    });
  }
  return out;
}

/**
 * The DH groups our IKE (or, for PFS, ESP) proposals allow, in preference order (the first
 * goes in KEi).
 */
export function offeredGroups(texts: readonly string[], kind: "ike" | "esp" = "ike"): number[] {
  const out: number[] = [];
  for (const conf of parseV2Proposals(texts, kind)) {
    for (const a of conf.byType.get(T.DH) ?? []) {
      if (a.group !== undefined && !out.includes(a.group)) out.push(a.group);
    }
  }
  return out;
}

/**
 * RFC 7296 §3.3.6: an answer carries exactly one proposal with one transform of each type.
 * True when `proposals` has that shape.
 */
export function singleAnswer(proposals: readonly ProposalV2[]): boolean {
  if (proposals.length !== 1) return false;
  const types = proposals[0]!.transforms.map((t) => t.type);
  return new Set(types).size === types.length;
}
