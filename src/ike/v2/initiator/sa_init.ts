/**
 * IKE_SA_INIT as initiator (RFC 7296 §1.2):
 *
 *     HDR(A,0), [N(COOKIE),] SAi1, KEi, Ni, N(NAT_DETECTION_*_IP), N(FRAGMENTATION_SUPPORTED)
 *                                      -->
 *                                      <--  HDR(A,B), SAr1, KEr, Nr, N(NAT_DETECTION_*_IP), ...
 *
 * The offer is every configured IKE proposal and KEi is in the first group offered. The answer
 * may instead be N(COOKIE) (§2.6: the same request again with the cookie first; it stays in
 * the later retries, §2.6.1) or N(INVALID_KE_PAYLOAD) (§1.3: the full offer again with a KE in
 * the group asked for, if we offer it); SPIi and Ni stay the same through those retries. The
 * chosen proposal is checked by the responder's own selection code against our configuration.
 * Nothing is kept from an unauthenticated answer but what the next message needs; an error
 * notification or an unusable answer is only noted (§2.21.1: it may be forged, so the request
 * is retransmitted until a usable answer comes or the attempt is abandoned).
 * @module
 */

import type { PeerConfig } from "../../../config/schema.ts";
import { skeyseed } from "../../../crypto/kdf/ikev2.ts";
import type { DhGroupId, DhKeyPair } from "../../../crypto/types.ts";
import type { Endpoint } from "../../actions.ts";
import { groupName } from "../../algorithms.ts";
import { FlagV2 } from "../../message/header.ts";
import { encodeV2Message, type MessageV2 } from "../../message/v2/message.ts";
import { ExchangeTypeV2, NotifyTypeV2 } from "../../message/v2/registry.ts";
import type { PayloadV2 } from "../../message/v2/types.ts";
import { nameOf } from "../../message/names.ts";
import { notifies, notify, oneOf, type V2Context } from "../context.ts";
import { NONCE_LENGTH, signatureHashesOf } from "../ike_sa_init.ts";
import { ikeSaCrypto } from "../keys.ts";
import { natDetectionNotifies, natVerdict } from "../nat_detect.ts";
import { offeredGroups, offerV2, singleAnswer } from "../offer.ts";
import { parseV2Proposals, selectIkeV2 } from "../proposal.ts";
import { IkeSaV2 } from "../sa.ts";

/** Retries after COOKIE or INVALID_KE_PAYLOAD before the attempt counts as failed. */
const MAX_INIT_RETRIES = 4;

/** An IKE_SA_INIT of ours in flight. */
export interface InitAttempt {
  /** The peer dialled. */
  readonly peer: PeerConfig;
  /** Our SPI (the table key while SPIr is unknown). */
  readonly spiI: Uint8Array;
  /** Ni (unchanged through COOKIE and INVALID_KE retries). */
  readonly ni: Uint8Array;
  /** Our endpoint (port 500). */
  readonly local: Endpoint;
  /** The peer's endpoint (port 500). */
  readonly remote: Endpoint;
  /** Our DH key for the group in KEi. */
  dh: DhKeyPair;
  /** The responder's cookie, once asked for. */
  cookie: Uint8Array | undefined;
  /** COOKIE and INVALID_KE_PAYLOAD answers so far. */
  retries: number;
  /** The request as last sent (InitiatorSignedOctets once answered). */
  request: Uint8Array;
}

/** The IKE_SA_INIT request of `a` as it stands (RFC 7296 §1.2, §2.6, §2.23, RFC 7383 §2.3). */
function initRequest(ctx: V2Context, a: InitAttempt): Uint8Array {
  const payloads: PayloadV2[] = [];
  // RFC 7296 §2.6: the cookie is the first payload.
  if (a.cookie !== undefined) payloads.push(notify(NotifyTypeV2.COOKIE, a.cookie));
  payloads.push(
    { kind: "sa", proposals: offerV2(a.peer.ike_proposals, "ike", new Uint8Array(0)) },
    { kind: "ke", group: a.dh.group, data: a.dh.publicValue },
    { kind: "nonce", data: a.ni },
    ...natDetectionNotifies(ctx.crypto, a.spiI, new Uint8Array(8), a.local, a.remote),
    notify(NotifyTypeV2.IKEV2_FRAGMENTATION_SUPPORTED),
  );
  if (a.peer.auth === "pubkey") {
    // RFC 7427 §4: SHA-256, SHA-384, SHA-512.
    payloads.push(notify(NotifyTypeV2.SIGNATURE_HASH_ALGORITHMS, Uint8Array.of(0, 2, 0, 3, 0, 4)));
  }
  return encodeV2Message({
    spiI: a.spiI,
    spiR: new Uint8Array(8),
    exchangeType: ExchangeTypeV2.IKE_SA_INIT,
    flags: FlagV2.INITIATOR,
    messageId: 0,
  }, payloads);
}

/** A new attempt towards `peer`, its first request built (the caller sends it); or why not. */
export function startInit(
  ctx: V2Context,
  peer: PeerConfig,
  local: Endpoint,
  remote: Endpoint,
): InitAttempt | string {
  const group = offeredGroups(peer.ike_proposals)[0];
  if (group === undefined) return "no usable IKE proposal configured";
  const spiI = ctx.crypto.randomBytes(8);
  if (spiI.every((b) => b === 0)) spiI[7] = 1;
  const a: InitAttempt = {
    peer,
    spiI,
    ni: ctx.crypto.randomBytes(NONCE_LENGTH),
    local,
    remote,
    dh: ctx.crypto.dh(group as DhGroupId).generate(),
    cookie: undefined,
    retries: 0,
    request: new Uint8Array(0),
  };
  a.request = initRequest(ctx, a);
  return a;
}

/**
 * What an IKE_SA_INIT answer leads to: send the (changed) request again, an unauthenticated
 * refusal to note (RFC 7296 §2.21.1), the half-open IKE SA, or nothing.
 */
export type InitOutcome =
  | { readonly kind: "resend" }
  | { readonly kind: "rejected"; readonly why: string }
  | { readonly kind: "done"; readonly sa: IkeSaV2 }
  | { readonly kind: "ignored"; readonly why: string };

/** Handles the answer `msg` (received as `datagram`) to attempt `a`. */
export function initAnswer(
  ctx: V2Context,
  a: InitAttempt,
  datagram: Uint8Array,
  msg: MessageV2,
): InitOutcome {
  const p = msg.payloads;
  if (msg.header.messageId !== 0) return { kind: "ignored", why: "message ID ≠ 0" };
  const cookie = notifies(p, NotifyTypeV2.COOKIE)[0];
  const invalidKe = notifies(p, NotifyTypeV2.INVALID_KE_PAYLOAD)[0];
  if ((cookie !== undefined || invalidKe !== undefined) && a.retries >= MAX_INIT_RETRIES) {
    return { kind: "rejected", why: `IKE_SA_INIT still refused after ${a.retries} retries` };
  }
  if (cookie !== undefined) {
    // RFC 7296 §2.6: cookie data is 1..64 octets.
    if (cookie.data.length < 1 || cookie.data.length > 64) {
      return { kind: "ignored", why: `COOKIE of ${cookie.data.length} octets` };
    }
    a.cookie = cookie.data.slice();
    a.retries++;
    a.request = initRequest(ctx, a);
    ctx.event("debug", a.peer.name, "IKE_SA_INIT answered with a COOKIE; sending it back");
    return { kind: "resend" };
  }
  if (invalidKe !== undefined) {
    const d = invalidKe.data;
    const want = d.length === 2 ? (d[0]! << 8) | d[1]! : -1;
    if (!offeredGroups(a.peer.ike_proposals).includes(want) || want === a.dh.group) {
      return {
        kind: "rejected",
        why: `the peer wants DH group ${want < 0 ? "?" : groupName(want)}, which we do not offer`,
      };
    }
    ctx.event("info", a.peer.name, "INVALID_KE_PAYLOAD: retrying IKE_SA_INIT", {
      offered: groupName(a.dh.group),
      wanted: groupName(want),
    });
    a.dh = ctx.crypto.dh(want as DhGroupId).generate();
    a.retries++;
    a.request = initRequest(ctx, a);
    return { kind: "resend" };
  }
  const error = p.find((x) => x.kind === "n" && x.notifyType < 16384);
  if (error !== undefined && error.kind === "n") {
    const name = nameOf(NotifyTypeV2, error.notifyType);
    return { kind: "rejected", why: `the peer refused IKE_SA_INIT: ${name}` };
  }
  return established(ctx, a, datagram, msg);
}

/** A usable answer: the algorithms, keys and NAT verdict of the new half-open IKE SA. */
function established(
  ctx: V2Context,
  a: InitAttempt,
  datagram: Uint8Array,
  msg: MessageV2,
): InitOutcome {
  const p = msg.payloads;
  const saP = oneOf(p, "sa");
  const ke = oneOf(p, "ke");
  const nonce = oneOf(p, "nonce");
  const spiR = msg.header.spiR;
  if (saP === undefined || ke === undefined || nonce === undefined) {
    return { kind: "rejected", why: "IKE_SA_INIT answer without one SA, KE and Nonce" };
  }
  if (spiR.every((b) => b === 0)) {
    return { kind: "rejected", why: "IKE_SA_INIT answer with SPIr 0" };
  }
  const nr = nonce.data;
  if (nr.length < 16 || nr.length > 256) {
    return { kind: "rejected", why: `Nr of ${nr.length} octets (RFC 7296 §2.10: 16..256)` };
  }
  // RFC 7296 §2.7: exactly one proposal, one of each transform type, out of what we offered.
  const sel = selectIkeV2(saP, parseV2Proposals(a.peer.ike_proposals, "ike"));
  if (!singleAnswer(saP.proposals) || !sel.ok) {
    return { kind: "rejected", why: "the peer chose an IKE proposal we did not offer" };
  }
  const alg = sel.alg;
  if (alg.group !== a.dh.group || ke.group !== a.dh.group) {
    return { kind: "rejected", why: `the answer's DH group ${ke.group} is not the one of KEi` };
  }
  let gir: Uint8Array;
  try {
    if (ke.data.length !== ctx.crypto.dh(alg.group).publicLength) throw new Error("length");
    gir = a.dh.computeShared(ke.data);
  } catch {
    return { kind: "rejected", why: "the peer's KE value is invalid" };
  }
  const keys = ikeSaCrypto(ctx.crypto, alg, {
    skeyseed: skeyseed(ctx.crypto, alg.prf, a.ni, nr, gir),
    ni: a.ni,
    nr,
    spiI: a.spiI,
    spiR,
  }, "initiator");
  // RFC 7296 §2.23: the answer's hashes are over both SPIs.
  const nat = natVerdict(ctx.crypto, p, a.spiI, spiR, a.local, a.remote);
  const natt = nat !== undefined && (nat.peerBehind || nat.selfBehind);
  const gw = ctx.policy.config.gateway;
  // RFC 7296 §2.23: behind a NAT the initiator moves to port 4500 from IKE_AUTH on.
  const local = natt ? { address: a.local.address, port: gw.natt_port } : a.local;
  const remote = natt ? { address: a.remote.address, port: 4500 } : a.remote;
  if (natt) {
    ctx.event("info", a.peer.name, "NAT detected; IKE moves to the NAT-T port", {
      peerBehindNat: nat!.peerBehind,
      selfBehindNat: nat!.selfBehind,
    });
  }
  const hashes = signatureHashesOf(p);
  const sa = new IkeSaV2({
    spiI: a.spiI,
    spiR,
    alg,
    sk: keys.sk,
    secrets: keys.secrets,
    state: {
      kind: "half-open",
      initRequest: a.request,
      initResponse: datagram.slice(),
      ni: a.ni,
      nr: nr.slice(),
      ...(hashes === undefined ? {} : { signatureHashes: hashes }),
    },
    local,
    remote,
    natt,
    fragmentation: notifies(p, NotifyTypeV2.IKEV2_FRAGMENTATION_SUPPORTED).length > 0,
    now: ctx.now,
    role: "initiator",
  });
  sa.nextOwnMid = 1;
  sa.expectedMid = 0;
  ctx.event("debug", a.peer.name, "IKE_SA_INIT done", { algorithms: alg.text, natt });
  return { kind: "done", sa };
}
