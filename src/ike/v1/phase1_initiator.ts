/**
 * Phase 1 as initiator with a pre-shared key (RFC 2409 §5), next to the responder's
 * main_mode.ts and aggressive_mode.ts and built from the same pieces (phase1_common.ts):
 *
 * Main Mode (identity protection, RFC 2408 §4.5):
 *
 *     HDR, SA, VIDs                 -->   (MM_I1)
 *                                   <--   HDR, SA, VIDs
 *     HDR, KE, Ni, NAT-D, NAT-D     -->   (MM_I3)
 *                                   <--   HDR, KE, Nr, NAT-D, NAT-D
 *     HDR*, IDii, HASH_I [, N(IC)]  -->   (MM_I5; on port 4500 behind a NAT, RFC 3947 §4)
 *                                   <--   HDR*, IDir, HASH_R
 *
 * Aggressive Mode (RFC 2408 §4.7; the ID in the clear, so the responder can pick the key by
 * it):
 *
 *     HDR, SA, KE, Ni, IDii, VIDs   -->   (AM_I1)
 *                                   <--   HDR, SA, KE, Nr, IDir, HASH_R, VIDs, NAT-D, NAT-D
 *     HDR*, HASH_I, NAT-D, NAT-D    -->   (established)
 *
 * Each request is retransmitted until answered (the dispatcher's timer, retransmit.ts). Nothing
 * in the SA changes until the answer parses and, from message 4 on, authenticates.
 * @module
 */

import type { PeerConfig } from "../../config/schema.ts";
import type { Endpoint } from "../actions.ts";
import { encodeV1Payloads } from "../message/v1/chain.ts";
import type { MessageV1 } from "../message/v1/message.ts";
import { DoiV1, ExchangeTypeV1, NotifyTypeV1, ProtocolV1 } from "../message/v1/registry.ts";
import type { DecodedPayloadV1, PayloadV1 } from "../message/v1/types.ts";
import { pending } from "../initiator/retransmit.ts";
import { IkeSa, isKeyed, isNegotiating, type KeyedIkeSa } from "../sa.ts";
import type { Arrival, ExchangeContext } from "./context.ts";
import { isIkeMismatch, selectIke } from "./ike_proposal.ts";
import { cookiePair } from "./informational.ts";
import { ikeOffer } from "./offer.ts";
import {
  all,
  applyNatD,
  authMethodsV1,
  decryptPhase1,
  deriveSkeyidFamily,
  established,
  one,
  ourCertRequests,
  ourId,
  ourNatD,
  ourProof,
  peerProof,
  Phase1Error,
  verifyPeer,
} from "./phase1_common.ts";
import { describeId, idAcceptable } from "./policy.ts";
import { readVendorIds, VID_DPD, VID_NATT_DRAFT_03, VID_NATT_RFC3947 } from "./vendor_ids.ts";

const MM = ExchangeTypeV1.IDENTITY_PROTECTION;
const AM = ExchangeTypeV1.AGGRESSIVE;
/** Nonce length we send (RFC 2409 §5: 8..256 octets). */
const NONCE_LENGTH = 32;

/**
 * Starts Phase 1 towards `peer` at `remote` (port 500) from `local`: a new initiator SA whose
 * first message is already sent. `initialContact`: tell the peer we have no other SA with it
 * (RFC 2407 §4.6.3.3), so it drops state a restart of ours left behind.
 */
export function startPhase1Initiator(
  ctx: ExchangeContext,
  peer: PeerConfig,
  local: Endpoint,
  remote: Endpoint,
  initialContact: boolean,
): IkeSa {
  const ckyI = ctx.crypto.randomBytes(8);
  if (ckyI.every((b) => b === 0)) ckyI[7] = 1;
  const sa = new IkeSa(peer.mode, ckyI, new Uint8Array(8), local, remote, ctx.now, "initiator");
  sa.peer = peer;
  sa.nat.forced = peer.encap;
  sa.initialContact = initialContact;
  const offer = ikeOffer(peer, authMethodsV1(ctx, peer)[0]);
  sa.exchange = { saiB: encodeV1Payloads([offer]).slice(4) };
  const vids: PayloadV1[] = [VID_NATT_RFC3947, VID_NATT_DRAFT_03, VID_DPD].map((data) => ({
    kind: "vid",
    data,
  }));
  let datagram: Uint8Array;
  if (peer.mode === "main") {
    datagram = ctx.sendPlain(sa, MM, [offer, ...vids]);
  } else {
    // Aggressive Mode: the group is fixed by the first configured proposal (one KE).
    const group = offer.proposals[0]!.transforms[0];
    const groupId = group?.attributes.find((a) => a.type === 4)?.value;
    const dh = ctx.crypto.dh(Number(groupId) as never).generate();
    const ni = ctx.crypto.randomBytes(NONCE_LENGTH);
    const mine = ourId(ctx, sa);
    sa.exchange.dh = dh;
    sa.exchange.ni = ni;
    sa.exchange.idiB = mine.body;
    const sameGroup = offer.proposals[0]!.transforms.filter((t) =>
      t.attributes.find((a) => a.type === 4)?.value === groupId
    ).map((t, i) => ({ ...t, number: i + 1 }));
    const amOffer = {
      ...offer,
      proposals: [{ ...offer.proposals[0]!, transforms: sameGroup }],
    };
    sa.exchange.saiB = encodeV1Payloads([amOffer]).slice(4);
    datagram = ctx.sendPlain(sa, AM, [
      amOffer,
      { kind: "ke", data: dh.publicValue },
      { kind: "nonce", data: ni },
      mine.payload,
      ...ourCertRequests(ctx, sa),
      ...vids,
    ]);
  }
  sa.request = pending(datagram, ctx.now);
  ctx.event("info", peer.name, `initiating ${peer.mode} mode`, {
    remote: `${remote.address}:${remote.port}`,
  });
  return sa;
}

/** Why an answer ended the attempt: the SA is removed with this reason (the dispatcher reports). */
function giveUp(ctx: ExchangeContext, sa: IkeSa, why: string): void {
  ctx.event("warn", sa.peerName, `Phase 1 as initiator failed: ${why}`);
  ctx.failure(sa.peerName, why);
  ctx.removeSa(sa, why);
}

/** The answer to our last Phase 1 request. */
export function phase1InitiatorNext(
  ctx: ExchangeContext,
  sa: IkeSa,
  msg: MessageV1,
  a: Arrival,
): void {
  const peer = sa.peerName;
  if (sa.state === "MM_I1" || sa.state === "AM_I1") {
    if (msg.encrypted || msg.header.spiR.every((b) => b === 0)) {
      ctx.event("warn", peer, "plaintext Phase 1 answer with a responder cookie expected; dropped");
      return;
    }
    if (sa.state === "MM_I1") mm2(ctx, sa, msg.payloads, msg.header.spiR);
    else am2(ctx, sa, msg.payloads, msg.header.spiR);
    return;
  }
  if (sa.state === "MM_I3") {
    if (msg.encrypted) {
      ctx.event("warn", peer, "Main Mode message 4 expected, got an encrypted one; dropped");
      return;
    }
    mm4(ctx, sa, msg.payloads);
    return;
  }
  if (sa.state === "MM_I5") {
    mm6(ctx, sa, msg, a);
    return;
  }
  ctx.event("debug", peer, `Phase 1 answer in state ${sa.state}; dropped`);
}

/** The chosen SA of message 2, or a failure. Sets the algorithms and what the VIDs say. */
function readChoice(
  ctx: ExchangeContext,
  sa: IkeSa,
  payloads: readonly DecodedPayloadV1[],
): boolean {
  const saP = one(payloads, "sa");
  const p0 = saP?.proposals[0];
  if (saP === undefined || saP.proposals.length !== 1 || p0?.transforms.length !== 1) {
    ctx.event("warn", sa.peerName, "Phase 1 answer without one SA of one transform; dropped");
    return false;
  }
  const peer = sa.peer;
  if (peer === undefined) return false;
  const r = selectIke(saP, peer, authMethodsV1(ctx, peer));
  if (isIkeMismatch(r)) {
    giveUp(ctx, sa, `the responder chose a transform we did not offer (${r.offered})`);
    return false;
  }
  sa.alg = r.alg;
  const vids = readVendorIds(all(payloads, "vid").map((v) => v.data));
  if (vids.natt !== undefined) sa.nat.variant = vids.natt;
  sa.dpd.supported = vids.dpd;
  return true;
}

/** Main Mode message 2: the chosen transform; message 3 with our KE, Ni and NAT-D goes out. */
function mm2(
  ctx: ExchangeContext,
  sa: IkeSa,
  payloads: readonly DecodedPayloadV1[],
  ckyR: Uint8Array,
): void {
  const undo = adoptCookie(ctx, sa, ckyR);
  if (!readChoice(ctx, sa, payloads) || !isNegotiating(sa)) {
    if (sa.state !== "DELETED") undo();
    return;
  }
  const dh = ctx.crypto.dh(sa.alg.group).generate();
  const ni = ctx.crypto.randomBytes(NONCE_LENGTH);
  sa.exchange.dh = dh;
  sa.exchange.ni = ni;
  sa.state = "MM_I3";
  send(ctx, sa, MM, [
    { kind: "ke", data: dh.publicValue },
    { kind: "nonce", data: ni },
    // RFC 2409 §5.1 with RFC 4945 §3.2.5: ask for the responder's certificate (strongSwan
    // sends it only when asked).
    ...ourCertRequests(ctx, sa),
    ...natD(ctx, sa),
  ]);
}

/** Takes the responder's cookie (the SA's table key changes); returns how to undo it. */
function adoptCookie(ctx: ExchangeContext, sa: IkeSa, ckyR: Uint8Array): () => void {
  const old = sa.key;
  sa.setResponderCookie(ckyR);
  ctx.rekeySa(sa, old);
  return () => {
    const now = sa.key;
    sa.setResponderCookie(new Uint8Array(8));
    ctx.rekeySa(sa, now);
  };
}

/** Our NAT-D pair; with `encap = true` our own hash is random so the peer encapsulates too. */
function natD(ctx: ExchangeContext, sa: IkeSa): PayloadV1[] {
  const out = ourNatD(ctx, sa);
  if (sa.nat.forced && out.length === 2) {
    // RFC 3947 §3 allows faking our NAT-D to force UDP encapsulation (strongSwan's encap=yes).
    out[1] = { ...out[1]!, hash: ctx.crypto.randomBytes(out[1]!.hash.length) };
  }
  return out;
}

function send(ctx: ExchangeContext, sa: IkeSa, type: number, payloads: readonly PayloadV1[]) {
  sa.request = pending(ctx.sendPlain(sa, type, payloads), ctx.now);
}

/** KE and nonce of the answer: the shared secret and the SKEYID family; false after a failure. */
function keys(
  ctx: ExchangeContext,
  sa: IkeSa,
  payloads: readonly DecodedPayloadV1[],
): boolean {
  const ke = one(payloads, "ke");
  const nr = one(payloads, "nonce");
  if (!isNegotiating(sa) || sa.exchange.dh === undefined || sa.exchange.ni === undefined) {
    ctx.event("warn", sa.peerName, "Phase 1 answer before our KE and nonce were sent; dropped");
    return false;
  }
  const dh = sa.exchange.dh;
  const ni = sa.exchange.ni;
  if (ke === undefined || nr === undefined || nr.data.length < 8 || nr.data.length > 256) {
    ctx.event("warn", sa.peerName, "Phase 1 answer without a usable KE and nonce; dropped");
    return false;
  }
  let gxy: Uint8Array;
  try {
    gxy = dh.computeShared(ke.data);
  } catch {
    ctx.event("warn", sa.peerName, "the responder's public value is invalid; dropped");
    return false;
  }
  try {
    deriveSkeyidFamily(ctx, sa, {
      gxi: dh.publicValue,
      gxr: ke.data,
      ni,
      nr: nr.data,
      gxy,
    });
  } catch (e) {
    if (!(e instanceof Phase1Error)) throw e;
    giveUp(ctx, sa, e.message);
    return false;
  }
  applyNatD(ctx, sa, payloads);
  return true;
}

/** Moves to the NAT-T port once a NAT is seen or encapsulation is forced (RFC 3947 §4). */
function float(ctx: ExchangeContext, sa: IkeSa): void {
  if (!sa.natt || sa.nat.variant === undefined) return;
  const natt = ctx.policy.config.gateway.natt_port;
  sa.local = { address: sa.local.address, port: natt };
  sa.remote = { address: sa.remote.address, port: 4500 };
  ctx.event("info", sa.peerName, "floating to the NAT-T port", {
    remote: `${sa.remote.address}:4500`,
  });
}

function initialContact(sa: IkeSa): PayloadV1[] {
  if (!sa.initialContact) return [];
  return [{
    kind: "n",
    doi: DoiV1.IPSEC,
    protocol: ProtocolV1.ISAKMP,
    spi: cookiePair(sa),
    notifyType: NotifyTypeV1.INITIAL_CONTACT,
    data: new Uint8Array(0),
  }];
}

/** Main Mode message 4: keys; message 5 (ID, HASH_I) goes out encrypted. */
function mm4(ctx: ExchangeContext, sa: IkeSa, payloads: readonly DecodedPayloadV1[]): void {
  if (!keys(ctx, sa, payloads) || !isKeyed(sa)) return;
  float(ctx, sa);
  const mine = ourId(ctx, sa);
  let proof: PayloadV1[];
  try {
    proof = ourProof(ctx, sa, mine.body);
  } catch (e) {
    if (!(e instanceof Phase1Error)) throw e;
    giveUp(ctx, sa, e.message);
    return;
  }
  sa.state = "MM_I5";
  const datagram = ctx.sendPhase1Encrypted(sa, MM, [mine.payload, ...proof, ...initialContact(sa)]);
  sa.request = pending(datagram, ctx.now);
}

/** The responder's identity and HASH_R; false (and the attempt ended) when they do not hold. */
function checkResponder(
  ctx: ExchangeContext,
  sa: KeyedIkeSa,
  payloads: readonly DecodedPayloadV1[],
): boolean {
  const id = one(payloads, "id");
  const proof = peerProof(payloads);
  if (id === undefined || proof === undefined) {
    giveUp(ctx, sa, "the responder sent no ID and proof: wrong PSK?");
    return false;
  }
  const refused = verifyPeer(ctx, sa, id.body, proof, payloads);
  if (refused !== undefined) {
    giveUp(ctx, sa, `the responder's proof does not verify (${refused})`);
    return false;
  }
  if (!idAcceptable(sa.peer, id)) {
    giveUp(ctx, sa, `identity ${describeId(id)} is not the configured remote_id`);
    return false;
  }
  return true;
}

/** Main Mode message 6: decrypted and authenticated, the SA is established. */
function mm6(ctx: ExchangeContext, sa: IkeSa, msg: MessageV1, a: Arrival): void {
  if (!isKeyed(sa)) {
    ctx.event("debug", sa.peerName, "Main Mode message 6 before a transform was chosen; dropped");
    return;
  }
  if (!msg.encrypted) {
    ctx.event("warn", sa.peerName, "Main Mode message 6 must be encrypted; dropped");
    return;
  }
  const d = decryptPhase1(ctx, sa, msg);
  if (typeof d === "string") {
    ctx.event("warn", sa.peerName, `Main Mode message 6 unreadable (${d}); dropped`);
    return;
  }
  const { payloads, nextIv } = d;
  if (!checkResponder(ctx, sa, payloads)) return;
  sa.iv = nextIv;
  sa.lastPhase1Block = nextIv;
  sa.request = undefined;
  if (a.local.port === ctx.policy.config.gateway.natt_port) sa.remote = a.remote;
  established(ctx, sa, payloads);
}

/** Aggressive Mode message 2: keys, HASH_R; message 3 (HASH_I, NAT-D) and established. */
function am2(
  ctx: ExchangeContext,
  sa: IkeSa,
  payloads: readonly DecodedPayloadV1[],
  ckyR: Uint8Array,
): void {
  const saved = { alg: sa.alg, nat: { ...sa.nat }, dpd: sa.dpd.supported };
  const undo = adoptCookie(ctx, sa, ckyR);
  const restore = () => {
    // Nothing authenticated yet: the SA goes back to waiting for a genuine answer.
    undo();
    sa.alg = saved.alg;
    Object.assign(sa.nat, saved.nat);
    sa.dpd.supported = saved.dpd;
  };
  if (!readChoice(ctx, sa, payloads) || !keys(ctx, sa, payloads) || !isNegotiating(sa)) {
    if (sa.state !== "DELETED") restore();
    return;
  }
  const idiB = sa.exchange.idiB;
  if (idiB === undefined) {
    giveUp(ctx, sa, "our Aggressive Mode ID was not kept");
    return;
  }
  if (!checkResponder(ctx, sa, payloads)) return;
  // NAT-D of the addresses the exchange used so far (RFC 3947 §3.2), then the float.
  const nat = natD(ctx, sa);
  float(ctx, sa);
  let proof: PayloadV1[];
  try {
    proof = ourProof(ctx, sa, idiB);
  } catch (e) {
    if (!(e instanceof Phase1Error)) throw e;
    giveUp(ctx, sa, e.message);
    return;
  }
  ctx.sendPhase1Encrypted(sa, AM, [...proof, ...nat, ...initialContact(sa)]);
  sa.lastPhase1Block = sa.iv;
  sa.request = undefined;
  established(ctx, sa, payloads);
}
