/**
 * The CREATE_CHILD_SA exchange, responder side (RFC 7296 §1.3): an additional CHILD_SA
 * (§1.3.1), a CHILD_SA rekey named by REKEY_SA (§1.3.3; PFS when the ESP proposal has a
 * group), and an IKE SA rekey (§1.3.2, §2.18: SKEYSEED = prf(SK_d, g^ir | Ni | Nr), the
 * children move to the new IKE SA, the peer deletes the old one). Rekeys are make-before-break:
 * the new SAs are installed before anything old goes.
 * @module
 */

import { rekeySkeyseed } from "../../crypto/kdf/ikev2.ts";
import type { PeerConfig } from "../../config/schema.ts";
import { spiHex, spiNumber } from "../child/spi.ts";
import { NotifyTypeV2, ProtocolV2 } from "../message/v2/registry.ts";
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
import { parseV2Proposals, selectIkeV2 } from "./proposal.ts";
import { ikeSaCrypto } from "./keys.ts";
import { IkeSaV2 } from "./sa.ts";

/** Length of our nonce. */
const NONCE_LENGTH = 32;

/** Answers CREATE_CHILD_SA on an established SA of `peer`. */
export function respondCreateChildSa(
  ctx: V2Context,
  sa: IkeSaV2,
  peer: PeerConfig,
  req: RequestV2,
): AnswerV2 {
  const saP = oneOf(req.payloads, "sa");
  const nonce = oneOf(req.payloads, "nonce");
  if (
    saP === undefined || nonce === undefined || nonce.data.length < 16 || nonce.data.length > 256
  ) {
    ctx.event(
      "warn",
      peer.name,
      "CREATE_CHILD_SA without one SA and a valid Nonce; INVALID_SYNTAX",
    );
    return { payloads: [notify(NotifyTypeV2.INVALID_SYNTAX)] };
  }
  const ni = nonce.data.slice();
  const nr = ctx.crypto.randomBytes(NONCE_LENGTH);
  if (saP.proposals.some((p) => p.protocol === ProtocolV2.IKE)) {
    return rekeyIkeSa(ctx, sa, peer, req, ni, nr);
  }
  const rekey = notifies(req.payloads, NotifyTypeV2.REKEY_SA)[0];
  let old;
  if (rekey !== undefined) {
    // The SPI is the one the peer receives on (our outbound); some name ours.
    const spi = spiNumber(rekey.spi);
    old = spi === undefined ? undefined : ctx.store.children.findBySpi(peer.name, spi);
    if (old === undefined || old.ikeSa !== sa.key) {
      ctx.event("warn", peer.name, "CHILD_SA_NOT_FOUND: REKEY_SA names no child of this IKE SA", {
        spi: spi === undefined ? `${rekey.spi.length} octets` : spiHex(spi),
      });
      return { payloads: [notify(NotifyTypeV2.CHILD_SA_NOT_FOUND)] };
    }
  }
  const child = negotiateChild(ctx, {
    sa,
    peer,
    payloads: req.payloads,
    ni,
    nr,
    pfs: "as-configured",
    ...(old === undefined ? {} : { rekeys: old }),
  });
  if (!child.ok) return { payloads: [child.notify] };
  const out: PayloadV2[] = [child.sa, { kind: "nonce", data: nr }];
  if (child.ke !== undefined) out.push(child.ke);
  out.push(...child.ts);
  return { payloads: out, after: child.install };
}

/** RFC 7296 §1.3.2, §2.18: a new IKE SA replaces `sa`; the children move over. */
function rekeyIkeSa(
  ctx: V2Context,
  sa: IkeSaV2,
  peer: PeerConfig,
  req: RequestV2,
  ni: Uint8Array,
  nr: Uint8Array,
): AnswerV2 {
  const saP = oneOf(req.payloads, "sa")!;
  const sel = selectIkeV2(saP, parseV2Proposals(peer.ike_proposals, "ike"));
  if (!sel.ok) {
    ctx.event("warn", peer.name, "NO_PROPOSAL_CHOSEN: no IKE proposal matches the IKE SA rekey", {
      offered: sel.offered,
      configured: sel.configured,
    });
    return { payloads: [notify(NotifyTypeV2.NO_PROPOSAL_CHOSEN)] };
  }
  if (sel.offered.spi.length !== 8 || sel.offered.spi.every((b) => b === 0)) {
    ctx.event("warn", peer.name, "IKE SA rekey without an 8-octet SPI; INVALID_SYNTAX");
    return { payloads: [notify(NotifyTypeV2.INVALID_SYNTAX)] };
  }
  const alg = sel.alg;
  const ke = oneOf(req.payloads, "ke");
  if (ke === undefined || ke.group !== alg.group) {
    const g = alg.group;
    return { payloads: [notify(NotifyTypeV2.INVALID_KE_PAYLOAD, Uint8Array.of(g >> 8, g & 0xff))] };
  }
  const group = ctx.crypto.dh(alg.group);
  const dh = group.generate();
  let gir: Uint8Array;
  try {
    if (ke.data.length !== group.publicLength) throw new Error("length");
    gir = dh.computeShared(ke.data);
  } catch {
    ctx.event("warn", peer.name, "the peer's KE value in the IKE SA rekey is invalid");
    return { payloads: [notify(NotifyTypeV2.INVALID_SYNTAX)] };
  }
  const spiI = sel.offered.spi.slice();
  const spiR = ctx.crypto.randomBytes(8);
  if (spiR.every((b) => b === 0)) spiR[7] = 1;
  const keys = ikeSaCrypto(ctx.crypto, alg, {
    // RFC 7296 §2.18: the old SA's PRF and SK_d.
    skeyseed: rekeySkeyseed(ctx.crypto, sa.alg.prf, sa.secrets.skD, gir, ni, nr),
    ni,
    nr,
    spiI,
    spiR,
  }, "responder");
  const fresh = new IkeSaV2({
    spiI,
    spiR,
    alg,
    sk: keys.sk,
    secrets: keys.secrets,
    state: sa.state.kind === "established"
      ? { ...sa.state, at: ctx.now }
      : { kind: "established", peer, at: ctx.now, remoteId: peer.name },
    local: sa.local,
    remote: sa.remote,
    natt: sa.natt,
    fragmentation: sa.fragmentation,
    now: ctx.now,
  });
  fresh.expiresAt = ctx.now + peer.ike_lifetime * 1000;
  return {
    payloads: [
      { kind: "sa", proposals: [{ ...sel.answer, spi: spiR }] },
      { kind: "nonce", data: nr },
      { kind: "ke", group: alg.group, data: dh.publicValue },
    ],
    after: () => {
      ctx.addSa(fresh);
      const moved = ctx.store.children.moveIkeSa(sa.key, fresh.key);
      ctx.event("info", peer.name, "IKE SA rekeyed", {
        algorithms: alg.text,
        spis: fresh.key,
        children: moved,
      });
    },
  };
}
