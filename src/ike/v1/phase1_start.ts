/**
 * The first message of a Phase 1 exchange (Main Mode message 1, RFC 2409 §5; Aggressive Mode
 * message 1, §5.4 via aggressive_mode.ts): SA payload checks (RFC 2407 §4.6.1: DOI IPsec,
 * SIT_IDENTITY_ONLY), proposal selection against the candidate peers, and a new IKE SA.
 * @module
 */

import type { PeerConfig } from "../../config/schema.ts";
import { DoiV1, NotifyTypeV1, SituationV1 } from "../message/v1/registry.ts";
import type { DecodedPayloadV1 } from "../message/v1/types.ts";
import type { IsakmpHeader } from "../message/header.ts";
import { IkeSa } from "../sa.ts";
import type { Arrival, ExchangeContext } from "./context.ts";
import { type IkeSelection, isIkeMismatch, selectIke } from "./ike_proposal.ts";
import { all, authMethodsV1, one } from "./phase1_common.ts";
import { readVendorIds } from "./vendor_ids.ts";

/** A new SA with its chosen proposal, or undefined after the failure was reported. */
export function startPhase1(
  ctx: ExchangeContext,
  mode: "main" | "aggressive",
  header: IsakmpHeader,
  payloads: readonly DecodedPayloadV1[],
  a: Arrival,
  candidates: readonly PeerConfig[],
): { sa: IkeSa; selection: IkeSelection } | undefined {
  const who = candidates[0]?.name ?? a.remote.address;
  const saP = one(payloads, "sa");
  const fail = (why: string, notify?: number) => {
    ctx.event("warn", who, `Phase 1 (${mode} mode) refused: ${why}`, {
      remote: `${a.remote.address}:${a.remote.port}`,
    });
    ctx.failure(who, why);
    if (notify !== undefined) {
      const tmp = new IkeSa(mode, header.spiI, new Uint8Array(8), a.local, a.remote, ctx.now);
      ctx.notifyPlain(tmp, notify);
    }
    return undefined;
  };
  if (saP === undefined) {
    return fail("message 1 needs exactly one SA payload", NotifyTypeV1.PAYLOAD_MALFORMED);
  }
  if (saP.doi !== DoiV1.IPSEC) {
    return fail(`DOI ${saP.doi} is not IPsec`, NotifyTypeV1.DOI_NOT_SUPPORTED);
  }
  if (saP.situation !== SituationV1.IDENTITY_ONLY) {
    return fail(
      `situation ${saP.situation} is not SIT_IDENTITY_ONLY`,
      NotifyTypeV1.SITUATION_NOT_SUPPORTED,
    );
  }
  if (candidates.length === 0) {
    ctx.drop(
      "no-peer",
      who,
      `Phase 1 (${mode} mode) refused: no peer is configured for ${a.remote.address}`,
      {
        remote: `${a.remote.address}:${a.remote.port}`,
      },
    );
    return undefined;
  }
  let mismatch: { offered: string; configured: string; reason: string } | undefined;
  for (const peer of candidates) {
    const r = selectIke(saP, peer, authMethodsV1(ctx, peer));
    if (isIkeMismatch(r)) {
      mismatch ??= r;
      continue;
    }
    const ckyR = ctx.cookies.make(ctx.crypto, header.spiI, a.remote, ctx.now);
    const sa = new IkeSa(mode, header.spiI, ckyR, a.local, a.remote, ctx.now);
    sa.peer = peer;
    sa.alg = r.alg;
    sa.exchange = { saiB: saP.body.slice() };
    const vids = readVendorIds(all(payloads, "vid").map((v) => v.data));
    if (vids.natt !== undefined) sa.nat.variant = vids.natt;
    sa.nat.forced = peer.encap;
    sa.dpd.supported = vids.dpd;
    return { sa, selection: r };
  }
  const m = mismatch!;
  ctx.event("warn", who, "NO_PROPOSAL_CHOSEN: no IKE proposal acceptable", {
    offered: m.offered,
    configured: m.configured,
    reason: m.reason,
  });
  ctx.failure(who, `no acceptable IKE proposal (offered ${m.offered})`);
  const tmp = new IkeSa(mode, header.spiI, new Uint8Array(8), a.local, a.remote, ctx.now);
  ctx.notifyPlain(tmp, NotifyTypeV1.NO_PROPOSAL_CHOSEN);
  return undefined;
}
