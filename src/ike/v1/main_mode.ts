/**
 * Main Mode responder with pre-shared keys (RFC 2409 §5, identity protection exchange of
 * RFC 2408 §4.5): message 1 → 2 (SA), 3 → 4 (KE, nonce, NAT-D), 5 → 6 (encrypted ID, HASH).
 * The key is chosen from the source address (§5.4); the peer's ID is checked against
 * `remote_id` once decrypted.
 * @module
 */

import type { PayloadV1 } from "../message/v1/types.ts";
import { ExchangeTypeV1, NotifyTypeV1 } from "../message/v1/registry.ts";
import type { IsakmpHeader } from "../message/header.ts";
import type { MessageV1 } from "../message/v1/message.ts";
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

const MM = ExchangeTypeV1.IDENTITY_PROTECTION;

/** Main Mode message 1: a new SA answered with message 2, or a refusal. */
export function mainMode1(
  ctx: ExchangeContext,
  header: IsakmpHeader,
  msg: MessageV1,
  a: Arrival,
): IkeSa | undefined {
  if (msg.encrypted) {
    ctx.event("warn", a.remote.address, "Main Mode message 1 is encrypted; dropped");
    return undefined;
  }
  const started = startPhase1(
    ctx,
    "main",
    header,
    msg.payloads,
    a,
    peersForAddress(ctx.policy.config, a.remote.address),
  );
  if (started === undefined) return undefined;
  const { sa, selection } = started;
  const vids = readVendorIds(all(msg.payloads, "vid").map((v) => v.data));
  const out: PayloadV1[] = [selection.response];
  for (const v of ourVendorIds(vids)) out.push({ kind: "vid", data: v });
  sa.lastRequest = requestDigest(ctx.crypto, a.datagram);
  sa.lastResponse = ctx.sendPlain(sa, MM, out);
  ctx.event("debug", sa.peerName, "Main Mode message 2 sent", { algorithms: sa.alg?.text ?? "" });
  return sa;
}

/** Main Mode messages 3 and 5 on an existing SA. */
export function mainModeNext(
  ctx: ExchangeContext,
  sa: IkeSa,
  msg: MessageV1,
  a: Arrival,
): void {
  const peer = sa.peerName;
  if (sa.state === "MM_SA_SENT") {
    if (msg.encrypted) {
      ctx.event("warn", peer, "Main Mode message 3 expected, got an encrypted message; dropped");
      return;
    }
    const ke = one(msg.payloads, "ke");
    const ni = one(msg.payloads, "nonce");
    if (ke === undefined || ni === undefined) {
      ctx.event("warn", peer, "Main Mode message 3 without one KE and one nonce; dropped");
      return;
    }
    let keys: ReturnType<typeof deriveKeys>;
    try {
      keys = deriveKeys(ctx, sa, ke.data, ni.data);
    } catch (e) {
      if (!(e instanceof Phase1Error)) throw e;
      // A malformed KE or nonce may be spoofed: drop it and keep waiting for a good one.
      if (e.notify !== undefined) {
        ctx.event("warn", peer, `Main Mode message 3 dropped: ${e.message}`);
        return;
      }
      ctx.event("warn", peer, `Main Mode message 3 refused: ${e.message}`);
      ctx.failure(peer, e.message);
      ctx.removeSa(sa, e.message);
      return;
    }
    applyNatD(ctx, sa, msg.payloads);
    const out: PayloadV1[] = [
      { kind: "ke", data: keys.dh.publicValue },
      { kind: "nonce", data: keys.nr },
      ...ourCertRequests(ctx, sa),
      ...ourNatD(ctx, sa),
    ];
    sa.state = "MM_KEY_SENT";
    sa.lastRequest = requestDigest(ctx.crypto, a.datagram);
    sa.lastResponse = ctx.sendPlain(sa, MM, out);
    return;
  }
  if (sa.state !== "MM_KEY_SENT" || !isKeyed(sa)) {
    ctx.event("warn", peer, `Main Mode message in state ${sa.state}; dropped`);
    return;
  }
  if (!msg.encrypted) {
    ctx.event(
      "warn",
      peer,
      "Main Mode message 5 expected, got a plaintext message; dropped (reordered?)",
    );
    return;
  }
  const d = decryptPhase1(ctx, sa, msg);
  if (typeof d === "string") {
    ctx.event(
      "warn",
      peer,
      `Main Mode message 5 unreadable (${d}): wrong PSK or corrupted message; dropped`,
    );
    ctx.failure(peer, "wrong PSK or corrupted message 5");
    return;
  }
  const { payloads, nextIv } = d;
  const id = one(payloads, "id");
  const proof = peerProof(payloads);
  if (id === undefined || proof === undefined) {
    ctx.event(
      "warn",
      peer,
      "Main Mode message 5 without one ID and one HASH: wrong PSK or malformed; dropped",
    );
    ctx.failure(peer, "wrong PSK or malformed message 5");
    return;
  }
  const refused = verifyPeer(ctx, sa, id.body, proof, payloads);
  if (refused !== undefined) {
    ctx.event("warn", peer, `AUTHENTICATION_FAILED: ${refused}`, { id: describeId(id) });
    ctx.failure(peer, "authentication failed (wrong PSK?)");
    ctx.notifyPlain(sa, NotifyTypeV1.AUTHENTICATION_FAILED);
    ctx.removeSa(sa, "authentication failed");
    return;
  }
  if (!idAcceptable(sa.peer, id)) {
    ctx.event(
      "warn",
      peer,
      "INVALID_ID_INFORMATION: the peer's identity is not the configured remote_id",
      {
        id: describeId(id),
        remoteId: sa.peer.remote_id ?? "",
      },
    );
    ctx.failure(peer, `identity ${describeId(id)} is not the configured remote_id`);
    ctx.notifyPlain(sa, NotifyTypeV1.INVALID_ID_INFORMATION);
    ctx.removeSa(sa, "invalid identity");
    return;
  }
  sa.iv = nextIv;
  floatTo(ctx, sa, a);
  const mine = ourId(ctx, sa);
  const out: PayloadV1[] = [mine.payload, ...ourProof(ctx, sa, mine.body)];
  sa.lastRequest = requestDigest(ctx.crypto, a.datagram);
  sa.lastResponse = ctx.sendPhase1Encrypted(sa, MM, out);
  sa.lastPhase1Block = sa.iv;
  established(ctx, sa, payloads);
}
