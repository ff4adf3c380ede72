/**
 * The IKE_SA_INIT exchange, responder side (RFC 7296 §1.2): proposal selection over every
 * offer of every IKEv2 peer that may be at the source address, INVALID_KE_PAYLOAD with the
 * group we want (§1.3, §3.10.1), the COOKIE challenge above the half-open threshold (§2.6),
 * NAT detection (§2.23), IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383 §2.3), then SKEYSEED and the
 * SK_* keys (§2.14). No state exists before the answer is decided; a refusal is an unprotected
 * Notify with a zero responder SPI.
 * @module
 */

import { skeyseed } from "../../crypto/kdf/ikev2.ts";
import { concat } from "../../crypto/kdf/primitives.ts";
import { authenticatorFor } from "../auth/authenticator.ts";
import type { Endpoint } from "../actions.ts";
import { peersForAddress } from "../identity.ts";
import { FlagV2 } from "../message/header.ts";
import { encodeV2Message } from "../message/v2/message.ts";
import type { MessageV2 } from "../message/v2/message.ts";
import { ExchangeTypeV2, NotifyTypeV2 } from "../message/v2/registry.ts";
import type { DecodedPayloadV2, PayloadV2 } from "../message/v2/types.ts";
import { notifies, notify, oneOf, type V2Context } from "./context.ts";
import type { CookieJar } from "./cookie.ts";
import { parseV2Proposals, selectIkeV2 } from "./proposal.ts";
import { ikeSaCrypto } from "./keys.ts";
import { natDetectionNotifies, natVerdict } from "./nat_detect.ts";
import { IkeSaV2 } from "./sa.ts";

/** Length of our nonce (RFC 7296 §2.10: at least half the PRF key size, 16..256). */
export const NONCE_LENGTH = 32;

/** What the engine passes besides the context. */
export interface InitInput {
  /** The request as received. */
  readonly datagram: Uint8Array;
  /** Decoded. */
  readonly msg: MessageV2;
  /** Our endpoint. */
  readonly local: Endpoint;
  /** The peer's endpoint. */
  readonly remote: Endpoint;
  /** Cookie maker. */
  readonly cookies: CookieJar;
  /** Half-open SAs now; at or above `cookieThreshold` a cookie is required. */
  readonly halfOpen: number;
  /** The threshold. */
  readonly cookieThreshold: number;
}

/** Answers an IKE_SA_INIT request; returns the new half-open SA, if one was created. */
export function respondIkeSaInit(ctx: V2Context, i: InitInput): IkeSaV2 | undefined {
  const { msg, remote } = i;
  const from = remote.address;
  const spiI = msg.header.spiI;
  // `limited`: an answer to input that names no peer goes out within the notify rate and
  // never larger than the request (RFC 7296 §2.21.4).
  const reply = (payloads: readonly PayloadV2[], limited = false) => {
    const datagram = encodeV2Message({
      spiI,
      spiR: new Uint8Array(8),
      exchangeType: ExchangeTypeV2.IKE_SA_INIT,
      flags: FlagV2.RESPONSE,
      messageId: 0,
    }, payloads);
    if (limited) ctx.unprotected(datagram, i.local, remote, i.datagram.length);
    else ctx.emit({ kind: "send", datagram, local: i.local, remote });
  };
  const sa = oneOf(msg.payloads, "sa");
  const ke = oneOf(msg.payloads, "ke");
  const nonce = oneOf(msg.payloads, "nonce");
  if (msg.header.messageId !== 0 || sa === undefined || ke === undefined || nonce === undefined) {
    ctx.drop(
      "malformed",
      from,
      "IKE_SA_INIT without one SA, KE and Nonce (or message ID ≠ 0); INVALID_SYNTAX",
    );
    reply([notify(NotifyTypeV2.INVALID_SYNTAX)], true);
    return undefined;
  }
  const ni = nonce.data;
  if (ni.length < 16 || ni.length > 256) {
    ctx.drop("malformed", from, `IKE_SA_INIT nonce of ${ni.length} octets (§2.10: 16..256)`);
    reply([notify(NotifyTypeV2.INVALID_SYNTAX)], true);
    return undefined;
  }
  // RFC 7296 §2.6: under load, answer with a cookie and keep nothing.
  if (i.halfOpen >= i.cookieThreshold) {
    const cookie = notifies(msg.payloads, NotifyTypeV2.COOKIE)[0];
    if (
      cookie === undefined || !i.cookies.valid(ctx.crypto, cookie.data, ni, from, spiI, ctx.now)
    ) {
      ctx.event(
        "debug",
        from,
        "IKE_SA_INIT answered with a COOKIE (half-open SAs at the threshold)",
        {
          halfOpen: i.halfOpen,
        },
      );
      reply([notify(NotifyTypeV2.COOKIE, i.cookies.make(ctx.crypto, ni, from, spiI, ctx.now))]);
      return undefined;
    }
  }
  const peers = peersForAddress(ctx.policy.config, from);
  if (peers.length === 0) {
    ctx.drop(
      "no-peer",
      from,
      "IKE_SA_INIT from an address no IKEv2 peer is configured for; NO_PROPOSAL_CHOSEN",
    );
    reply([notify(NotifyTypeV2.NO_PROPOSAL_CHOSEN)], true);
    return undefined;
  }
  let chosen: ReturnType<typeof selectIkeV2> | undefined;
  const configured: string[] = [];
  for (const p of peers) {
    const r = selectIkeV2(sa, parseV2Proposals(p.ike_proposals, "ike"));
    if (r.ok) {
      chosen = r;
      break;
    }
    configured.push(`${p.name}: ${r.configured}`);
    chosen ??= r;
  }
  if (chosen === undefined || !chosen.ok) {
    const offered = chosen !== undefined && !chosen.ok ? chosen.offered : "(none)";
    ctx.refusal(
      "warn",
      peers[0]!.name,
      "no-proposal",
      "NO_PROPOSAL_CHOSEN: no IKE proposal matches",
      {
        offered,
        configured: configured.join("; "),
      },
    );
    ctx.failure(peers[0]!.name, `IKE proposal mismatch (offered ${offered})`);
    reply([notify(NotifyTypeV2.NO_PROPOSAL_CHOSEN)]);
    return undefined;
  }
  const alg = chosen.alg;
  if (ke.group !== alg.group) {
    // RFC 7296 §1.3: tell the initiator which group we want; it retries with that KE.
    ctx.refusal("info", from, "invalid-ke", "INVALID_KE_PAYLOAD: asking for another DH group", {
      offered: ke.group,
      wanted: alg.group,
    });
    reply([
      notify(NotifyTypeV2.INVALID_KE_PAYLOAD, Uint8Array.of(alg.group >> 8, alg.group & 0xff)),
    ]);
    return undefined;
  }
  const group = ctx.crypto.dh(alg.group);
  if (ke.data.length !== group.publicLength) {
    ctx.refusal(
      "warn",
      from,
      "ke-length",
      `KE of ${ke.data.length} octets for group ${alg.group}; INVALID_SYNTAX`,
    );
    reply([notify(NotifyTypeV2.INVALID_SYNTAX)]);
    return undefined;
  }
  const dh = group.generate();
  let gir: Uint8Array;
  try {
    gir = dh.computeShared(ke.data);
  } catch {
    ctx.refusal(
      "warn",
      from,
      "ke-value",
      "the peer's KE value is invalid (RFC 6989 checks); INVALID_SYNTAX",
    );
    reply([notify(NotifyTypeV2.INVALID_SYNTAX)]);
    return undefined;
  }
  const spiR = ctx.crypto.randomBytes(8);
  if (spiR.every((b) => b === 0)) spiR[7] = 1;
  const nr = ctx.crypto.randomBytes(NONCE_LENGTH);
  const keys = ikeSaCrypto(ctx.crypto, alg, {
    skeyseed: skeyseed(ctx.crypto, alg.prf, ni, nr, gir),
    ni,
    nr,
    spiI,
    spiR,
  }, "responder");
  // RFC 7296 §2.23: the request's hashes are over its SPIs (SPIr zero).
  const nat = natVerdict(ctx.crypto, msg.payloads, spiI, new Uint8Array(8), i.local, remote);
  const natt = nat !== undefined && (nat.peerBehind || nat.selfBehind);
  const out: PayloadV2[] = [];
  const answer = { ...chosen.answer, spi: new Uint8Array(0) };
  out.push({ kind: "sa", proposals: [answer] });
  out.push({ kind: "ke", group: alg.group, data: dh.publicValue });
  out.push({ kind: "nonce", data: nr });
  if (nat !== undefined) {
    if (natt) {
      ctx.event(
        "info",
        from,
        "NAT detected; IKE moves to the NAT-T port, ESP is UDP-encapsulated",
        {
          peerBehindNat: nat.peerBehind,
          selfBehindNat: nat.selfBehind,
        },
      );
    }
    out.push(...natDetectionNotifies(ctx.crypto, spiI, spiR, i.local, remote));
  }
  const fragmentation =
    notifies(msg.payloads, NotifyTypeV2.IKEV2_FRAGMENTATION_SUPPORTED).length > 0;
  if (fragmentation) out.push(notify(NotifyTypeV2.IKEV2_FRAGMENTATION_SUPPORTED));
  const cert = certificateOffer(ctx, from, msg.payloads);
  out.push(...cert.payloads);
  const response = encodeV2Message({
    spiI,
    spiR,
    exchangeType: ExchangeTypeV2.IKE_SA_INIT,
    flags: FlagV2.RESPONSE,
    messageId: 0,
  }, out);
  const ike = new IkeSaV2({
    spiI,
    spiR,
    alg,
    sk: keys.sk,
    secrets: keys.secrets,
    state: {
      kind: "half-open",
      initRequest: i.datagram.slice(),
      initResponse: response,
      ni: ni.slice(),
      nr,
      ...(cert.signatureHashes === undefined ? {} : { signatureHashes: cert.signatureHashes }),
    },
    local: i.local,
    remote,
    natt,
    fragmentation,
    now: ctx.now,
  });
  ike.expectedMid = 1;
  ike.lastResponse = { messageId: 0, datagrams: [response] };
  ctx.addSa(ike);
  ctx.emit({ kind: "send", datagram: response, local: i.local, remote });
  ctx.event("debug", from, "IKE_SA_INIT answered", { algorithms: alg.text, natt });
  return ike;
}

/**
 * With certificate peers at this address: CERTREQ naming our trust anchors (RFC 7296 §3.7,
 * SHA-1 of each anchor's public key) and SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4: SHA-256,
 * SHA-384, SHA-512); and the hashes the initiator announced.
 */
function certificateOffer(
  ctx: V2Context,
  from: string,
  payloads: readonly DecodedPayloadV2[],
): { payloads: PayloadV2[]; signatureHashes?: number[] } {
  const pubkey = peersForAddress(ctx.policy.config, from).filter((p) => p.auth === "pubkey");
  if (pubkey.length === 0) return { payloads: [] };
  const hashes = signatureHashesOf(payloads);
  const cas = pubkey.map((p) => authenticatorFor(p, ctx.policy.credentials).certRequestsV2?.())
    .filter((x): x is Uint8Array => x !== undefined && x.length > 0);
  const out: PayloadV2[] = [];
  // X.509 Certificate - Signature (RFC 7296 §3.6, encoding 4).
  if (cas.length > 0) out.push({ kind: "certreq", encoding: 4, data: concat(...cas) });
  out.push(notify(NotifyTypeV2.SIGNATURE_HASH_ALGORITHMS, Uint8Array.of(0, 2, 0, 3, 0, 4)));
  return hashes === undefined ? { payloads: out } : { payloads: out, signatureHashes: hashes };
}

/** The hash algorithms of the peer's SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4), if it sent it. */
export function signatureHashesOf(payloads: readonly DecodedPayloadV2[]): number[] | undefined {
  const theirs = notifies(payloads, NotifyTypeV2.SIGNATURE_HASH_ALGORITHMS)[0]?.data;
  if (theirs === undefined) return undefined;
  const hashes: number[] = [];
  for (let k = 0; k + 1 < theirs.length && k < 64; k += 2) {
    hashes.push((theirs[k]! << 8) | theirs[k + 1]!);
  }
  return hashes;
}
