/**
 * Aggressive Mode responder with pre-shared keys (RFC 2409 §5, §5.4): message 1 carries SA,
 * KE, Ni and IDii, so the peer (and its key) is chosen by identity; message 2 answers with SA,
 * KE, Nr, IDir, HASH_R (and NAT-D, RFC 3947 §3.2); message 3 carries HASH_I, encrypted or not.
 * @module
 */

import type { PeerConfig } from "../../config/schema.ts";
import type { MessageV1 } from "../message/v1/message.ts";
import type { IsakmpHeader } from "../message/header.ts";
import { ExchangeTypeV1, NotifyTypeV1 } from "../message/v1/registry.ts";
import type { DecodedPayloadV1, PayloadV1 } from "../message/v1/types.ts";
import { type IkeSa, isKeyed } from "../sa.ts";
import type { Arrival, ExchangeContext } from "./context.ts";
import {
  all,
  applyNatD,
  decryptPhase1,
  deriveKeys,
  established,
  floatTo,
  one,
  ourCertRequests,
  ourId,
  ourNatD,
  ourProof,
  peerProof,
  Phase1Error,
  verifyPeer,
} from "./phase1_common.ts";
import { startPhase1 } from "./phase1_start.ts";
import { requestDigest } from "./replay_guard.ts";
import { describeId, idAcceptable, peersForAddress } from "./policy.ts";
import { ourVendorIds, readVendorIds } from "./vendor_ids.ts";

const AM = ExchangeTypeV1.AGGRESSIVE;

/**
 * Candidate peers for an Aggressive Mode ID: peers configured for aggressive mode at this
 * address (or %any) whose remote_id matches; those with an explicit remote_id first.
 */
function candidatesById(
  ctx: ExchangeContext,
  address: string,
  payloads: readonly DecodedPayloadV1[],
) {
  const id = one(payloads, "id");
  if (id === undefined) return { id, peers: [] as PeerConfig[] };
  const peers = peersForAddress(ctx.policy.config, address).filter((p) => idAcceptable(p, id));
  peers.sort((a, b) => Number(b.remote_id !== undefined) - Number(a.remote_id !== undefined));
  return { id, peers };
}

/** Aggressive Mode message 1: a new SA answered with message 2, or a refusal. */
export function aggressiveMode1(
  ctx: ExchangeContext,
  header: IsakmpHeader,
  msg: MessageV1,
  a: Arrival,
): IkeSa | undefined {
  const from = a.remote.address;
  if (msg.encrypted) {
    ctx.event("warn", from, "Aggressive Mode message 1 is encrypted; dropped");
    return undefined;
  }
  const ke = one(msg.payloads, "ke");
  const ni = one(msg.payloads, "nonce");
  const { id, peers } = candidatesById(ctx, from, msg.payloads);
  if (ke === undefined || ni === undefined || id === undefined) {
    ctx.event("warn", from, "Aggressive Mode message 1 without one KE, nonce and ID; dropped");
    return undefined;
  }
  if (peers.length === 0) {
    const any = peersForAddress(ctx.policy.config, from);
    const who = any[0]?.name ?? from;
    ctx.event("warn", who, "INVALID_ID_INFORMATION: no peer for this identity", {
      id: describeId(id),
    });
    ctx.failure(who, `no peer for identity ${describeId(id)}`);
    return undefined;
  }
  const aggressive = peers.filter((p) => p.mode === "aggressive");
  if (aggressive.length === 0) {
    ctx.event(
      "warn",
      peers[0]!.name,
      "Aggressive Mode refused: the peer is configured for main mode",
    );
    ctx.failure(peers[0]!.name, "initiator used aggressive mode; mode = main configured");
    return undefined;
  }
  const started = startPhase1(ctx, "aggressive", header, msg.payloads, a, aggressive);
  if (started === undefined) return undefined;
  const { sa, selection } = started;
  let keys: ReturnType<typeof deriveKeys>;
  try {
    keys = deriveKeys(ctx, sa, ke.data, ni.data);
  } catch (e) {
    if (!(e instanceof Phase1Error)) throw e;
    ctx.event("warn", sa.peerName, `Aggressive Mode message 1 refused: ${e.message}`);
    ctx.failure(sa.peerName, e.message);
    if (e.notify !== undefined) ctx.notifyPlain(sa, e.notify);
    return undefined;
  }
  const mine = ourId(ctx, sa);
  keys.exchange.idrB = mine.body;
  // The peer's ID is kept for HASH_I (IDii_b).
  keys.exchange.idiB = id.body.slice();
  const vids = readVendorIds(all(msg.payloads, "vid").map((v) => v.data));
  const out: PayloadV1[] = [
    selection.response,
    { kind: "ke", data: keys.dh.publicValue },
    { kind: "nonce", data: keys.nr },
    mine.payload,
    ...ourProof(ctx, sa, mine.body),
    ...ourCertRequests(ctx, sa),
    ...ourNatD(ctx, sa),
    ...ourVendorIds(vids).map((v) => ({ kind: "vid" as const, data: v })),
  ];
  sa.lastRequest = requestDigest(ctx.crypto, a.datagram);
  sa.lastResponse = ctx.sendPlain(sa, AM, out);
  return sa;
}

/** Aggressive Mode message 3: HASH_I (and NAT-D), encrypted or plaintext. */
export function aggressiveMode3(ctx: ExchangeContext, sa: IkeSa, msg: MessageV1, a: Arrival): void {
  const peer = sa.peerName;
  if (sa.state !== "AM_SENT" || !isKeyed(sa)) {
    ctx.event("warn", peer, `Aggressive Mode message in state ${sa.state}; dropped`);
    return;
  }
  let payloads: readonly DecodedPayloadV1[];
  let nextIv = sa.iv;
  if (msg.encrypted) {
    const d = decryptPhase1(ctx, sa, msg);
    if (typeof d === "string") {
      ctx.event(
        "warn",
        peer,
        `Aggressive Mode message 3 unreadable (${d}): wrong PSK or corrupted; dropped`,
      );
      ctx.failure(peer, "wrong PSK or corrupted message 3");
      return;
    }
    payloads = d.payloads;
    nextIv = d.nextIv;
  } else payloads = msg.payloads;
  const proof = peerProof(payloads);
  const idiB = sa.exchange?.idiB;
  if (proof === undefined || idiB === undefined) {
    ctx.event("warn", peer, "Aggressive Mode message 3 without one HASH; dropped");
    return;
  }
  const refused = verifyPeer(ctx, sa, idiB, proof, payloads);
  if (refused !== undefined) {
    ctx.event("warn", peer, `AUTHENTICATION_FAILED: ${refused}`);
    ctx.failure(peer, "authentication failed (wrong PSK?)");
    ctx.notifyPlain(sa, NotifyTypeV1.AUTHENTICATION_FAILED);
    ctx.removeSa(sa, "authentication failed");
    return;
  }
  applyNatD(ctx, sa, payloads);
  sa.iv = nextIv;
  sa.lastPhase1Block = nextIv;
  floatTo(ctx, sa, a);
  sa.lastRequest = requestDigest(ctx.crypto, a.datagram);
  sa.lastResponse = undefined;
  established(ctx, sa, payloads);
}
