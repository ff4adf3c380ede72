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
  type CreatedV2,
  notifies,
  notify,
  oneOf,
  type RequestV2,
  type V2Context,
} from "./context.ts";
import { type IkeAlgorithmsV2, parseV2Proposals, selectIkeV2 } from "./proposal.ts";
import { type IkeRole, ikeSaCrypto } from "./keys.ts";
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
  const created: CreatedV2 = {
    kind: "child",
    ni,
    nr,
    ...(old === undefined ? {} : { rekeys: old.childId }),
  };
  return {
    payloads: out,
    created,
    install: () => void (created.childId = child.install()),
  };
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
  const fresh = rekeyedIkeSa(ctx, sa, peer, { alg, gir, ni, nr, spiI, spiR }, "responder");
  const created: CreatedV2 = { kind: "ike", ni, nr, ikeSa: fresh };
  return {
    payloads: [
      { kind: "sa", proposals: [{ ...sel.answer, spi: spiR }] },
      { kind: "nonce", data: nr },
      { kind: "ke", group: alg.group, data: dh.publicValue },
    ],
    created,
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

/** What {@link rekeyedIkeSa} derives the new IKE SA from. */
export interface RekeyedIkeInput {
  /** The new SA's algorithms. */
  readonly alg: IkeAlgorithmsV2;
  /** g^ir of the exchange. */
  readonly gir: Uint8Array;
  /** Ni of the exchange. */
  readonly ni: Uint8Array;
  /** Nr of the exchange. */
  readonly nr: Uint8Array;
  /** The new SPIi (the exchange initiator's). */
  readonly spiI: Uint8Array;
  /** The new SPIr. */
  readonly spiR: Uint8Array;
}

/**
 * The IKE SA replacing `old` (RFC 7296 §2.18): SKEYSEED = prf(SK_d (old), g^ir | Ni | Nr) with
 * the old PRF, the keys of the new SA with its PRF (§2.14) oriented for `role` (the exchange
 * initiator is the new SA's original initiator), established with the old SA's peer and
 * endpoints, expiring after the peer's ike_lifetime. Not yet in the table.
 */
export function rekeyedIkeSa(
  ctx: V2Context,
  old: IkeSaV2,
  peer: PeerConfig,
  p: RekeyedIkeInput,
  role: IkeRole,
): IkeSaV2 {
  const keys = ikeSaCrypto(ctx.crypto, p.alg, {
    skeyseed: rekeySkeyseed(ctx.crypto, old.alg.prf, old.secrets.skD, p.gir, p.ni, p.nr),
    ni: p.ni,
    nr: p.nr,
    spiI: p.spiI,
    spiR: p.spiR,
  }, role);
  const fresh = new IkeSaV2({
    spiI: p.spiI,
    spiR: p.spiR,
    alg: p.alg,
    sk: keys.sk,
    secrets: keys.secrets,
    state: old.state.kind === "established"
      ? { ...old.state, at: ctx.now }
      : { kind: "established", peer, at: ctx.now, remoteId: peer.name },
    local: old.local,
    remote: old.remote,
    natt: old.natt,
    fragmentation: old.fragmentation,
    now: ctx.now,
    role,
  });
  fresh.expiresAt = ctx.now + peer.ike_lifetime * 1000;
  return fresh;
}
