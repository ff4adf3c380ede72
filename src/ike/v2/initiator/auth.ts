/**
 * IKE_AUTH as initiator (RFC 7296 §1.2, §2.15):
 *
 *     HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, [N(INITIAL_CONTACT),] SAi2, TSi, TSr}  -->
 *                                           <--  HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}
 *
 * Our AUTH is made by the peer's authenticator (PSK or certificate, src/ike/auth/) over
 * RealMessage1 | Nr | prf(SK_pi, IDi'); the responder's AUTH is verified over
 * RealMessage2 | Ni | prf(SK_pr, IDr') before anything is installed. The first CHILD_SA
 * offers the ESP proposals without DH (§1.2) and local_ts / remote_ts as TSi / TSr; the
 * answer's selectors may be narrowed (§2.9) but must stay inside ours. A child refused in an
 * authenticated answer (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, …) leaves an IKE SA that the
 * caller deletes: the attempt failed.
 * @module
 */

import type { PeerConfig } from "../../../config/schema.ts";
import { concat } from "../../../crypto/kdf/primitives.ts";
import { authenticatorFor, isAuthFailure } from "../../auth/authenticator.ts";
import { spiBytes, SpiExhaustedError, spiNumber } from "../../child/spi.ts";
import { describeIdentity, identityMatches, identityOf } from "../../identity.ts";
import { nameOf } from "../../message/names.ts";
import { NotifyTypeV2 } from "../../message/v2/registry.ts";
import type { DecodedPayloadV2, PayloadV2 } from "../../message/v2/types.ts";
import { childInstaller, configured } from "../child.ts";
import { notify, oneOf, type V2Context } from "../context.ts";
import { idBody, ownIdPayload } from "../ike_auth.ts";
import { offerV2, singleAnswer } from "../offer.ts";
import { parseV2Proposals, selectEspV2 } from "../proposal.ts";
import type { HalfOpen, IkeSaV2 } from "../sa.ts";
import { narrowAll, toTsV2 } from "../ts_payload.ts";

/** The IKE_AUTH request being made: its payloads and our inbound SPI for the child. */
export interface AuthRequest {
  /** Inner payloads of the request. */
  readonly payloads: readonly PayloadV2[];
  /** Our SPI of the first CHILD_SA (held in the allocator until installed or released). */
  readonly inboundSpi: number;
}

/** The request, or why it cannot be made. */
export function authRequest(
  ctx: V2Context,
  sa: IkeSaV2,
  init: HalfOpen,
  peer: PeerConfig,
  initialContact: boolean,
): AuthRequest | string {
  const authenticator = authenticatorFor(peer, ctx.policy.credentials);
  const idi = ownIdPayload(ctx, peer, authenticator, sa.local.address, "idi");
  const prf = sa.alg.prf;
  const proof = authenticator.proveV2(ctx.crypto, {
    prf,
    octets: concat(init.initRequest, init.nr, ctx.crypto.prf(prf, sa.secrets.skPi, idBody(idi))),
    ...(init.signatureHashes === undefined ? {} : { signatureHashes: init.signatureHashes }),
  });
  if (isAuthFailure(proof)) return `cannot make our AUTH: ${proof.reason}`;
  const localTs = configured(peer.local_ts);
  const remoteTs = configured(peer.remote_ts);
  if (localTs.length === 0 || remoteTs.length === 0) return "no usable local_ts / remote_ts";
  let inboundSpi: number;
  try {
    inboundSpi = ctx.store.spis.allocate();
  } catch (e) {
    if (e instanceof SpiExhaustedError) return e.message;
    throw e;
  }
  const out: PayloadV2[] = [idi];
  // RFC 7296 §3.6: our certificate first, then the intermediates.
  for (const data of proof.certs ?? []) out.push({ kind: "cert", encoding: 4, data });
  const cas = authenticator.certRequestsV2?.();
  if (cas !== undefined && cas.length > 0) out.push({ kind: "certreq", encoding: 4, data: cas });
  if (peer.auth === "psk" && peer.remote_id !== undefined) {
    // RFC 7296 §3.5: IDr tells a responder with several identities which one we want.
    out.push({ kind: "idr", ...identityOf(peer.remote_id) });
  }
  out.push({ kind: "auth", method: proof.method, data: proof.data });
  // RFC 7296 §2.4: no other IKE SA with this peer, so it may drop what it still holds.
  if (initialContact) out.push(notify(NotifyTypeV2.INITIAL_CONTACT));
  out.push(
    { kind: "sa", proposals: offerV2(peer.esp_proposals, "esp", spiBytes(inboundSpi), false) },
    { kind: "tsi", selectors: localTs.map(toTsV2) },
    { kind: "tsr", selectors: remoteTs.map(toTsV2) },
  );
  return { payloads: out, inboundSpi };
}

/** The outcome of the IKE_AUTH answer. */
export type AuthOutcome =
  /** Authenticated, the first child installed. */
  | { readonly kind: "up" }
  /** Not authenticated: the SA goes, nothing was installed. */
  | { readonly kind: "refused"; readonly why: string }
  /** Authenticated, but no child: the caller deletes the IKE SA (the attempt failed). */
  | { readonly kind: "no-child"; readonly why: string };

/** Error notifies of an answer (types below 16384, RFC 7296 §3.10.1), by name. */
function errors(payloads: readonly DecodedPayloadV2[]): string[] {
  return payloads.filter((p) => p.kind === "n" && p.notifyType < 16384)
    .map((p) => nameOf(NotifyTypeV2, (p as DecodedPayloadV2 & { kind: "n" }).notifyType));
}

/**
 * Checks the responder's answer on `sa` (already decrypted and integrity-checked): its AUTH,
 * then the child. On "up" the SA is established and the child installed.
 */
export function authAnswer(
  ctx: V2Context,
  sa: IkeSaV2,
  init: HalfOpen,
  peer: PeerConfig,
  req: AuthRequest,
  payloads: readonly DecodedPayloadV2[],
): AuthOutcome {
  const idr = oneOf(payloads, "idr");
  const auth = oneOf(payloads, "auth");
  if (idr === undefined || auth === undefined) {
    const errs = errors(payloads);
    return {
      kind: "refused",
      why: errs.length > 0
        ? `the peer refused IKE_AUTH: ${errs.join(", ")}`
        : "IKE_AUTH answer without one IDr and one AUTH",
    };
  }
  if (!identityMatches(peer, idr)) {
    return {
      kind: "refused",
      why: `the peer's identity ${describeIdentity(idr)} is not remote_id`,
    };
  }
  const authenticator = authenticatorFor(peer, ctx.policy.credentials);
  const prf = sa.alg.prf;
  const certs = payloads.filter((p) => p.kind === "cert" && p.encoding === 4)
    .map((p) => (p as DecodedPayloadV2 & { kind: "cert" }).data);
  const verdict = authenticator.verifyV2(
    ctx.crypto,
    {
      prf,
      octets: concat(init.initResponse, init.ni, ctx.crypto.prf(prf, sa.secrets.skPr, idBody(idr))),
    },
    { method: auth.method, data: auth.data },
    { idType: idr.idType, idData: idr.data, certs },
  );
  if (verdict !== true) return { kind: "refused", why: `the peer's AUTH: ${verdict.reason}` };
  const remoteId = describeIdentity(idr);
  sa.state = { kind: "established", peer, at: ctx.now, remoteId };
  sa.expiresAt = ctx.now + peer.ike_lifetime * 1000;
  ctx.event("info", peer.name, "IKE SA established (IKEv2, we initiated)", {
    algorithms: sa.alg.text,
    id: remoteId,
    remote: `${sa.remote.address}:${sa.remote.port}`,
    natt: sa.natt,
  });
  return child(ctx, sa, init, peer, req, payloads);
}

/** The first CHILD_SA of the answer (RFC 7296 §1.2, §2.9). */
function child(
  ctx: V2Context,
  sa: IkeSaV2,
  init: HalfOpen,
  peer: PeerConfig,
  req: AuthRequest,
  payloads: readonly DecodedPayloadV2[],
): AuthOutcome {
  const saP = oneOf(payloads, "sa");
  const tsi = oneOf(payloads, "tsi");
  const tsr = oneOf(payloads, "tsr");
  if (saP === undefined || tsi === undefined || tsr === undefined) {
    const errs = errors(payloads);
    return {
      kind: "no-child",
      why: errs.length > 0
        ? `the peer refused the CHILD_SA: ${errs.join(", ")}`
        : "IKE_AUTH answer without SA, TSi and TSr",
    };
  }
  const sel = selectEspV2(saP, parseV2Proposals(peer.esp_proposals, "esp"), "none");
  if (!singleAnswer(saP.proposals) || !sel.ok) {
    return { kind: "no-child", why: "the peer chose an ESP proposal we did not offer" };
  }
  const outboundSpi = spiNumber(sel.offered.spi);
  if (outboundSpi === undefined || outboundSpi === 0) {
    return { kind: "no-child", why: "the peer's ESP SPI is not 4 non-zero octets" };
  }
  // RFC 7296 §2.9: the responder may narrow; whatever it answers must lie inside ours.
  const localTs = narrowAll(tsi.selectors, configured(peer.local_ts));
  const remoteTs = narrowAll(tsr.selectors, configured(peer.remote_ts));
  if (localTs.length === 0 || remoteTs.length === 0) {
    return { kind: "no-child", why: "the peer's traffic selectors lie outside ours" };
  }
  const install = childInstaller(ctx, {
    sa,
    peer,
    alg: sel.alg,
    inboundSpi: req.inboundSpi,
    outboundSpi,
    ni: init.ni,
    nr: init.nr,
    gir: undefined,
    localTs,
    remoteTs,
    weInitiated: true,
  });
  install();
  return { kind: "up" };
}
