/**
 * The two EspSaSpecs of a Quick Mode result (src/ike/child/spec.ts builds them): UDP
 * encapsulation when the transform asked for it (RFC 3947 §5.1) or NAT-T is in use.
 * @module
 */

import type { TrafficSelector } from "../../esp/sa_spec.ts";
import type { ChildKeys } from "./keymat.ts";
import type { NewChild } from "../child/child_sa.ts";
import { buildChild } from "../child/spec.ts";
import type { EspSelection } from "./esp_proposal.ts";
import type { QmHost, QmIkeSa } from "./phase2_host.ts";

/** Inputs for {@link newChild}. */
export interface ChildSpecInput {
  /** The IKE SA the Quick Mode ran on. */
  readonly sa: QmIkeSa;
  /** The chosen proposal. */
  readonly sel: EspSelection;
  /** Our inbound SPI. */
  readonly inboundSpi: number;
  /** KEYMAT per direction. */
  readonly keys: ChildKeys;
  /** Our selector. */
  readonly local: TrafficSelector;
  /** The peer's selector. */
  readonly remote: TrafficSelector;
  /** Install time. */
  readonly now: number;
}

/** The child SA pair to install. */
export function newChild(host: QmHost, i: ChildSpecInput): NewChild {
  const { sa, sel } = i;
  return buildChild({
    peer: sa.peer,
    gateway: host.gateway,
    ikeSa: sa.key,
    local: sa.local,
    remote: sa.remote,
    encap: sel.udpEncap || sa.natt,
    transform: sel.transform,
    transformName: sel.transformName,
    pfsGroup: sel.pfsGroup,
    esn: sel.esn,
    seconds: sel.seconds,
    bytes: sel.bytes,
    inboundSpi: i.inboundSpi,
    outboundSpi: sel.peerSpi,
    inboundKeys: i.keys.inbound,
    outboundKeys: i.keys.outbound,
    localTs: [i.local],
    remoteTs: [i.remote],
    now: i.now,
  });
}
