/**
 * The INFORMATIONAL exchange, responder side (RFC 7296 §1.4): Delete of the IKE SA (answered
 * empty, then the SA and its children go), Delete of ESP SAs (answered with a Delete naming
 * our inbound SPIs of the same children, §1.4.1), an empty request as a liveness check (§1.4,
 * answered empty), and Notify payloads (logged; error types name the peer's complaint).
 * @module
 */

import type { PeerConfig } from "../../config/schema.ts";
import { spiBytes, spiHex, spiNumber } from "../child/spi.ts";
import { nameOf } from "../message/names.ts";
import { NotifyTypeV2, ProtocolV2 } from "../message/v2/registry.ts";
import type { PayloadV2 } from "../message/v2/types.ts";
import { allOf, type AnswerV2, type RequestV2, type V2Context } from "./context.ts";
import type { IkeSaV2 } from "./sa.ts";

/** Answers an INFORMATIONAL request on an established SA of `peer`. */
export function respondInformational(
  ctx: V2Context,
  sa: IkeSaV2,
  peer: PeerConfig,
  req: RequestV2,
): AnswerV2 {
  for (const n of allOf(req.payloads, "n")) {
    // RFC 7296 §3.10.1: types below 16384 are errors.
    ctx.event(n.notifyType < 16384 ? "warn" : "debug", peer.name, "Notify from the peer", {
      type: nameOf(NotifyTypeV2, n.notifyType),
    });
  }
  const deletes = allOf(req.payloads, "d");
  if (deletes.some((d) => d.protocol === ProtocolV2.IKE)) {
    return {
      payloads: [],
      after: () => ctx.removeSa(sa, "deleted by the peer", false),
    };
  }
  const ours: Uint8Array[] = [];
  const gone: string[] = [];
  for (const d of deletes) {
    if (d.protocol !== ProtocolV2.ESP) {
      ctx.event(
        "warn",
        peer.name,
        `Delete for protocol ${d.protocol} ignored (only ESP SAs exist)`,
      );
      continue;
    }
    for (const raw of d.spis) {
      const spi = spiNumber(raw);
      const child = spi === undefined ? undefined : ctx.store.children.findBySpi(peer.name, spi);
      if (child === undefined || child.ikeSa !== sa.key) {
        // RFC 7296 §1.4.1: an SPI we do not know (already gone after a collision) is skipped.
        ctx.event("debug", peer.name, "Delete names no CHILD_SA of this IKE SA", {
          spi: spi === undefined ? `${raw.length} octets` : spiHex(spi),
        });
        continue;
      }
      ours.push(spiBytes(child.inbound.spi));
      gone.push(child.childId);
    }
  }
  const out: PayloadV2[] = ours.length === 0
    ? []
    : [{ kind: "d", protocol: ProtocolV2.ESP, spiSize: 4, spis: ours }];
  return {
    payloads: out,
    after: () => {
      for (const id of gone) {
        const c = ctx.store.children.get(id);
        for (const a of ctx.store.children.remove(id)) ctx.emit(a);
        if (c !== undefined) {
          ctx.event("info", peer.name, "CHILD_SA deleted by the peer", {
            childId: id,
            spiIn: spiHex(c.inbound.spi),
            spiOut: spiHex(c.outbound.spi),
          });
        }
      }
    },
  };
}
