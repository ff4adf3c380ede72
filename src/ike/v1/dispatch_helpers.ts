/**
 * Dispatcher pieces outside Phase 1 proper: handing an encrypted Quick Mode message to Phase 2
 * with its message-ID IV chain (RFC 2409 Appendix B; a retransmitted request is decrypted with
 * the IV it had the first time), following a peer's NAT mapping on the NAT-T port (RFC 3947
 * §4), and the INVALID_PAYLOAD_TYPE check of RFC 2408 §5.1.
 * @module
 */

import { concat } from "../../crypto/kdf/primitives.ts";
import { HEADER_LENGTH } from "../message/header.ts";
import { readV1Payloads } from "../message/v1/chain.ts";
import { encodeV1Message, type MessageV1 } from "../message/v1/message.ts";
import { DoiV1, ExchangeTypeV1, NotifyTypeV1, ProtocolV1 } from "../message/v1/registry.ts";
import { type IkeSa, isEstablished } from "../sa.ts";
import type { Arrival, ExchangeContext } from "./context.ts";
import { decryptBody, messageIv } from "./crypto_state.ts";
import { qmView } from "./informational.ts";
import { sameBytes } from "./phase1_common.ts";

/** A datagram on the NAT-T port from a new address/port moves an established SA there. */
export function followNatMapping(ctx: ExchangeContext, sa: IkeSa, a: Arrival): void {
  const natt = ctx.policy.config.gateway.natt_port;
  if (a.local.port !== natt) return;
  if (sa.remote.port === a.remote.port && sa.remote.address === a.remote.address) return;
  sa.local = a.local;
  sa.remote = a.remote;
  ctx.event("info", sa.peerName, "peer's NAT mapping changed; IKE endpoint updated", {
    remote: `${a.remote.address}:${a.remote.port}`,
  });
}

/**
 * Decrypts a Quick Mode message of an established SA and hands it to Phase 2. The message-ID
 * IV, liveness and the NAT mapping change only once Phase 2 found HASH(1) or HASH(3) valid
 * and the message new (not a retransmission or replay): RFC 3947 §4.
 */
export function dispatchQuickMode(
  ctx: ExchangeContext,
  sa: IkeSa,
  msg: MessageV1,
  a: Arrival,
): void {
  const peer = sa.peerName;
  const header = msg.header;
  if (
    !isEstablished(sa) || !msg.encrypted || header.messageId === 0
  ) {
    ctx.event(
      "warn",
      peer,
      "Quick Mode message before Phase 1 completed, unencrypted or with message ID 0; dropped",
    );
    return;
  }
  const mid = header.messageId;
  const entry = sa.messages.get(mid);
  const retransmit = entry?.lastIn !== undefined && sameBytes(entry.lastIn.datagram, a.datagram);
  let iv: Uint8Array;
  let chain;
  let nextIv: Uint8Array;
  try {
    iv = retransmit ? entry!.lastIn!.iv : messageIv(ctx.crypto, sa, mid);
    const d = decryptBody(ctx.crypto, sa.alg.cipher, sa.encKey, iv, msg.body);
    chain = readV1Payloads(header.nextPayload, d.plaintext, HEADER_LENGTH);
    nextIv = d.nextIv;
  } catch (e) {
    const why = e instanceof Error ? e.message : "undecodable";
    ctx.drop("unauthenticated", peer, `Quick Mode message dropped: ${why}`, { messageId: mid });
    return;
  }
  const accepted = () => {
    if (retransmit) return;
    sa.messages.set(mid, {
      iv: nextIv,
      lastIn: { datagram: a.datagram.slice(), iv },
      touched: ctx.now,
    });
    sa.lastSeen = ctx.now;
    sa.forgetPhase1Answer();
    followNatMapping(ctx, sa, a);
  };
  ctx.phase2.handleQuickMode(ctx.host, qmView(sa), {
    messageId: mid,
    flags: header.flags,
    chain,
    datagram: a.datagram,
    accepted,
  }, ctx.now);
}

/**
 * RFC 2408 §5.1: a payload type we do not know in a plaintext Phase 1 message; returns its
 * type and the INVALID_PAYLOAD_TYPE notification to send, or undefined when all are known.
 */
export function invalidPayloadType(
  msg: MessageV1,
): { readonly type: number; readonly notify: Uint8Array } | undefined {
  if (msg.encrypted) return undefined;
  const t = msg.header.exchangeType;
  if (t !== ExchangeTypeV1.IDENTITY_PROTECTION && t !== ExchangeTypeV1.AGGRESSIVE) return undefined;
  const bad = msg.payloads.find((p) => p.kind === "unknown");
  if (bad === undefined) return undefined;
  const notify = encodeV1Message(
    {
      spiI: msg.header.spiI,
      spiR: msg.header.spiR,
      exchangeType: ExchangeTypeV1.INFORMATIONAL,
      flags: 0,
      messageId: 0,
    },
    [{
      kind: "n",
      doi: DoiV1.IPSEC,
      protocol: ProtocolV1.ISAKMP,
      spi: concat(msg.header.spiI, msg.header.spiR),
      notifyType: NotifyTypeV1.INVALID_PAYLOAD_TYPE,
      data: Uint8Array.of(bad.type),
    }],
  );
  return { type: bad.type, notify };
}
