/**
 * The IKE_AUTH exchange, responder side (RFC 7296 §1.2, §2.15): the peer is chosen by its
 * identity (IDi arrives before AUTH, so a `%any` peer with `remote_id` works with PSK), its
 * AUTH is verified through the peer's authenticator over InitiatorSignedOctets, ours is made
 * over ResponderSignedOctets, INITIAL_CONTACT drops the peer's older IKE SAs (§2.4), and the
 * first CHILD_SA is negotiated (no KE; a child failure leaves the IKE SA up, §1.2).
 * @module
 */

import { type Authenticator, authenticatorFor, isAuthFailure } from "../auth/authenticator.ts";
import { concat } from "../../crypto/kdf/primitives.ts";
import type { PeerConfig } from "../../config/schema.ts";
import {
  describeIdentity,
  identityMatches,
  identityOf,
  localIdentity,
  peersForAddress,
} from "../identity.ts";
import { encodeV2Payloads } from "../message/v2/chain.ts";
import { NotifyTypeV2 } from "../message/v2/registry.ts";
import type { PayloadV2 } from "../message/v2/types.ts";
import { negotiateChild } from "./child.ts";
import {
  type AnswerV2,
  notifies,
  notify,
  oneOf,
  type RequestV2,
  type V2Context,
} from "./context.ts";
import type { HalfOpen, IkeSaV2 } from "./sa.ts";

/** The body of an ID payload (IDx' of RFC 7296 §2.15: type, 3 reserved octets, data). */
export function idBody(p: PayloadV2 & { kind: "idi" | "idr" }): Uint8Array {
  return encodeV2Payloads([p]).subarray(4);
}

/**
 * Our ID payload towards `peer` (RFC 7296 §3.5): the authenticator's (a certificate's subject)
 * when it has one, else local_id, the gateway's local_id or the address the peer reached.
 */
export function ownIdPayload<K extends "idi" | "idr">(
  ctx: V2Context,
  peer: PeerConfig,
  authenticator: Authenticator,
  localAddress: string,
  kind: K,
): PayloadV2 & { kind: K } {
  const configuredId = peer.local_id ?? ctx.policy.config.gateway.local_id;
  const ownId = authenticator.localId?.(configuredId);
  const id = ownId === undefined
    ? identityOf(localIdentity(ctx.policy.config, peer, localAddress))
    : { idType: ownId.type, data: ownId.data };
  return { kind, ...id } as PayloadV2 & { kind: K };
}

/**
 * Answers IKE_AUTH on a half-open SA. On AUTHENTICATION_FAILED the answer carries only that
 * Notify and the SA is removed after it is sent.
 */
export function respondIkeAuth(
  ctx: V2Context,
  sa: IkeSaV2,
  init: HalfOpen,
  req: RequestV2,
): AnswerV2 {
  const from = sa.remote.address;
  const idi = oneOf(req.payloads, "idi");
  const auth = oneOf(req.payloads, "auth");
  const fail = (why: string, peer?: PeerConfig): AnswerV2 => {
    const name = peer?.name ?? from;
    ctx.event("warn", name, `AUTHENTICATION_FAILED: ${why}`, {
      ...(idi === undefined ? {} : { id: describeIdentity(idi) }),
    });
    if (peer !== undefined) ctx.failure(peer.name, `authentication failed: ${why}`);
    return {
      payloads: [notify(NotifyTypeV2.AUTHENTICATION_FAILED)],
      after: () => ctx.removeSa(sa, "authentication failed", false),
    };
  };
  if (idi === undefined || auth === undefined) {
    return fail("IKE_AUTH without one IDi and one AUTH (EAP is not supported)");
  }
  // RFC 7296 §2.15: the PSK is chosen by the identity the peer claims; a signature AUTH
  // (any method but 2, Shared Key MIC) goes to a certificate peer.
  const wantPsk = auth.method === 2;
  const candidates = peersForAddress(ctx.policy.config, from).filter((p) =>
    identityMatches(p, idi) && (p.auth === "psk") === wantPsk
  );
  const peer = candidates[0];
  if (peer === undefined) {
    return fail(`no IKEv2 peer for ${from} accepts identity ${describeIdentity(idi)}`);
  }
  const authenticator = authenticatorFor(peer, ctx.policy.credentials);
  const prf = sa.alg.prf;
  const macedIdI = ctx.crypto.prf(prf, sa.secrets.skPi, idBody(idi));
  // RFC 7296 §3.6: X.509 signature certificates (encoding 4) are the peer's evidence.
  const certs = req.payloads.filter((p) => p.kind === "cert" && p.encoding === 4)
    .map((p) => (p as PayloadV2 & { kind: "cert" }).data);
  const verdict = authenticator.verifyV2(
    ctx.crypto,
    {
      prf,
      octets: concat(init.initRequest, init.nr, macedIdI),
    },
    { method: auth.method, data: auth.data },
    { idType: idi.idType, idData: idi.data, certs },
  );
  if (verdict !== true) return fail(verdict.reason, peer);
  const idr = ownIdPayload(ctx, peer, authenticator, sa.local.address, "idr");
  const macedIdR = ctx.crypto.prf(prf, sa.secrets.skPr, idBody(idr));
  const proof = authenticator.proveV2(ctx.crypto, {
    prf,
    octets: concat(init.initResponse, init.ni, macedIdR),
    ...(init.signatureHashes === undefined ? {} : { signatureHashes: init.signatureHashes }),
  });
  if (isAuthFailure(proof)) return fail(proof.reason, peer);
  const remoteId = describeIdentity(idi);
  sa.state = { kind: "established", peer, at: ctx.now, remoteId };
  sa.expiresAt = ctx.now + peer.ike_lifetime * 1000;
  const initialContact = notifies(req.payloads, NotifyTypeV2.INITIAL_CONTACT).length > 0;
  if (initialContact) {
    // RFC 7296 §2.4: the peer rebooted; its older IKE SAs (and their children) are stale.
    for (const o of ctx.peerSas(peer.name)) {
      if (o !== sa) ctx.removeSa(o, "INITIAL_CONTACT from the peer", false);
    }
  }
  ctx.event("info", peer.name, "IKE SA established (IKEv2)", {
    algorithms: sa.alg.text,
    id: remoteId,
    remote: `${sa.remote.address}:${sa.remote.port}`,
    natt: sa.natt,
    initialContact,
  });
  const out: PayloadV2[] = [
    idr,
    // RFC 7296 §3.6: our certificate first, then the intermediates up to our anchor.
    ...(proof.certs ?? []).map((data): PayloadV2 => ({ kind: "cert", encoding: 4, data })),
    { kind: "auth", method: proof.method, data: proof.data },
  ];
  const child = negotiateChild(ctx, {
    sa,
    peer,
    payloads: req.payloads,
    ni: init.ni,
    nr: init.nr,
    pfs: "none",
  });
  if (!child.ok) {
    // RFC 7296 §1.2: the IKE SA is up; the child's refusal rides in the IKE_AUTH answer.
    out.push(child.notify);
    return { payloads: out };
  }
  out.push(child.sa, ...child.ts);
  return { payloads: out, install: child.install };
}
