/**
 * Informational exchanges (RFC 2409 §5.7, RFC 2408 §4.8): HASH(1) = prf(SKEYID_a, M-ID | N/D)
 * protects them once Phase 1 is done. Handles Delete of the ISAKMP SA and (through Phase 2) of
 * ESP SAs, INITIAL-CONTACT (RFC 2407 §4.6.3.3), and DPD R-U-THERE / R-U-THERE-ACK with
 * sequence numbers (RFC 3706 §5-§7). Unprotected notifies during Phase 1 are only logged (and
 * end the half-open SA when they report an error).
 * @module
 */

import { concat, u32 } from "../../crypto/kdf/primitives.ts";
import { encodeV1Payloads, readV1Payloads } from "../message/v1/chain.ts";
import { HEADER_LENGTH } from "../message/header.ts";
import type { MessageV1 } from "../message/v1/message.ts";
import { NotifyTypeV1, ProtocolV1 } from "../message/v1/registry.ts";
import { nameOf } from "../message/names.ts";
import type { DecodedPayloadV1, NotifyPayloadV1 } from "../message/v1/types.ts";
import { hex, type IkeSa, isEstablished, type KeyedIkeSa } from "../sa.ts";
import type { ExchangeContext } from "./context.ts";
import { decryptBody, messageIv } from "./crypto_state.ts";
import { all, sameBytes } from "./phase1_common.ts";
import { firstSighting } from "./replay_guard.ts";

/** Longest pause between messages of one exchange kept in the message-ID table (ms). */
export const MESSAGE_ID_KEEP_MS = 120_000;

/** HASH(1) of an Informational message over the payload bytes after the HASH payload. */
export function infoHash(
  ctx: ExchangeContext,
  sa: KeyedIkeSa,
  messageId: number,
  rest: Uint8Array,
) {
  return ctx.crypto.prf(sa.alg.prf, sa.skeyidA, concat(u32(messageId), rest));
}

/**
 * One Informational message on `sa`. `accepted` runs once the message authenticated (HASH(1))
 * and is no replay, before anything is answered: only then may the caller move the SA's
 * endpoints (RFC 3947 §4). Returns whether that happened.
 */
export function handleInformational(
  ctx: ExchangeContext,
  sa: IkeSa,
  msg: MessageV1,
  accepted?: () => void,
): boolean {
  const peer = sa.peerName;
  if (!msg.encrypted) {
    for (const n of all(msg.payloads, "n")) {
      ctx.event("warn", peer, `peer reports ${nameOf(NotifyTypeV1, n.notifyType)} (unprotected)`, {
        state: sa.state,
      });
      if (sa.state !== "ESTABLISHED" && n.notifyType < 8192) {
        ctx.failure(peer, `peer reported ${nameOf(NotifyTypeV1, n.notifyType)}`);
        ctx.removeSa(sa, "the peer refused Phase 1");
      }
    }
    return false;
  }
  if (!isEstablished(sa)) {
    ctx.event("warn", peer, "encrypted Informational before Phase 1 completed; dropped");
    return false;
  }
  const mid = msg.header.messageId;
  if (mid === 0) {
    ctx.event("warn", peer, "Informational with message ID 0; dropped");
    return false;
  }
  let payloads: readonly DecodedPayloadV1[];
  let nextIv: Uint8Array;
  let iv: Uint8Array;
  try {
    iv = messageIv(ctx.crypto, sa, mid);
    const d = decryptBody(ctx.crypto, sa.alg.cipher, sa.encKey, iv, msg.body);
    const chain = readV1Payloads(msg.header.nextPayload, d.plaintext, HEADER_LENGTH);
    payloads = chain.payloads;
    nextIv = d.nextIv;
    const first = payloads[0];
    if (first === undefined || first.kind !== "hash") throw new Error("no HASH(1) first");
    const rest = chain.bytes.subarray(first.raw.length);
    if (!sameBytes(infoHash(ctx, sa, mid, rest), first.data)) throw new Error("HASH(1) mismatch");
  } catch (e) {
    const why = e instanceof Error ? e.message : "undecodable";
    ctx.drop("unauthenticated", peer, `Informational dropped: ${why}`, { messageId: mid });
    return false;
  }
  if (!firstSighting(sa.seenInformational, mid)) {
    ctx.drop("replay", peer, "replayed Informational dropped", { messageId: mid });
    return false;
  }
  sa.messages.set(mid, {
    iv: nextIv,
    lastIn: { datagram: new Uint8Array(0), iv },
    touched: ctx.now,
  });
  sa.lastSeen = ctx.now;
  accepted?.();
  for (const p of payloads) {
    if (p.kind === "n") notify(ctx, sa, p);
    else if (p.kind === "d") {
      if (p.protocol === ProtocolV1.ISAKMP) {
        const mine = p.spis.some((s) =>
          s.length === 16 && sameBytes(s.subarray(0, 8), sa.ckyI) &&
          sameBytes(s.subarray(8), sa.ckyR)
        );
        if (!mine) {
          ctx.event("warn", peer, "INVALID_SPI: Delete names another ISAKMP SA; ignored", {
            spis: p.spis.map(hex).join(","),
          });
          continue;
        }
        ctx.event("info", peer, "peer deleted the IKE SA");
        ctx.removeSa(sa, "deleted by the peer");
        return true;
      }
      ctx.phase2.deleteSpis(ctx.host, ctx.host.liveIkeSa(peer) ?? qmView(sa), p.protocol, p.spis);
    }
  }
  return true;
}

/**
 * The Phase 2 view of an IKE SA. Endpoints are read when used, so an authenticated message
 * that moved the SA (RFC 3947 §4) is answered at the new address.
 */
export function qmView(sa: KeyedIkeSa) {
  return {
    key: sa.key,
    peer: sa.peer,
    prf: sa.alg.prf,
    skeyidD: sa.skeyidD,
    skeyidA: sa.skeyidA,
    get local() {
      return sa.local;
    },
    get remote() {
      return sa.remote;
    },
    natt: sa.natt,
    ...(sa.nat.variant === undefined ? {} : { nattVariant: sa.nat.variant }),
  };
}

function seqOf(n: NotifyPayloadV1): number | undefined {
  if (n.data.length !== 4) return undefined;
  return new DataView(n.data.buffer, n.data.byteOffset, 4).getUint32(0);
}

/** The 16-byte ISAKMP SPI (cookie pair) of `sa`. */
export function cookiePair(sa: IkeSa): Uint8Array {
  return concat(sa.ckyI, sa.ckyR);
}

function notify(ctx: ExchangeContext, sa: IkeSa, n: NotifyPayloadV1): void {
  const peer = sa.peerName;
  switch (n.notifyType) {
    case NotifyTypeV1.R_U_THERE: {
      // RFC 3706 §7: the sequence number must not go backwards; equal is a retransmission.
      const seq = seqOf(n);
      if (seq === undefined || (sa.dpd.peerSeq !== undefined && seq < sa.dpd.peerSeq)) {
        ctx.event("warn", peer, "R-U-THERE with a bad or old sequence number; dropped", {
          seq: seq ?? -1,
        });
        return;
      }
      sa.dpd.peerSeq = seq;
      ctx.sendInformational(sa, {
        kind: "n",
        doi: n.doi,
        protocol: ProtocolV1.ISAKMP,
        spi: cookiePair(sa),
        notifyType: NotifyTypeV1.R_U_THERE_ACK,
        data: u32(seq),
      });
      return;
    }
    case NotifyTypeV1.R_U_THERE_ACK: {
      const seq = seqOf(n);
      if (seq === undefined || seq !== sa.dpd.pendingSeq) {
        ctx.event("warn", peer, "R-U-THERE-ACK for no outstanding probe; dropped", {
          seq: seq ?? -1,
        });
        return;
      }
      delete sa.dpd.pendingSeq;
      ctx.event("debug", peer, "DPD: peer alive", { seq });
      return;
    }
    case NotifyTypeV1.INITIAL_CONTACT: {
      ctx.event("info", peer, "INITIAL-CONTACT: dropping the peer's older SAs");
      ctx.phase2.deletePeer(ctx.host, peer, false);
      for (const o of ctx.peerSas(peer)) if (o !== sa) ctx.removeSa(o, "INITIAL-CONTACT");
      return;
    }
    default:
      ctx.event(
        n.notifyType < 8192 ? "warn" : "info",
        peer,
        `peer notifies ${nameOf(NotifyTypeV1, n.notifyType)}`,
        { spi: hex(n.spi) },
      );
      // An error about our Quick Mode in flight (NO_PROPOSAL_CHOSEN...) ends it now.
      if (n.notifyType < 8192) ctx.phase2.refused(ctx.host, sa.key, n.notifyType);
  }
}

/** Encodes `[HASH(1), payload]` for an outgoing Informational in exchange `messageId`. */
export function informationalChain(
  ctx: ExchangeContext,
  sa: KeyedIkeSa,
  messageId: number,
  payload: DecodedPayloadV1 | import("../message/v1/types.ts").PayloadV1,
) {
  const rest = encodeV1Payloads([payload]);
  return [{ kind: "hash" as const, data: infoHash(ctx, sa, messageId, rest) }, payload];
}
