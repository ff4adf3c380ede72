/**
 * The two EspSaSpecs of a Quick Mode result: outer endpoints (UDP-encapsulated per RFC 3948 when
 * the transform asked for it or NAT-T is in use), selectors, keys, replay window and lifetimes
 * (soft = hard − rekey_margin, only logged by a responder).
 * @module
 */

import type { TrafficSelector } from "../../esp/sa_spec.ts";
import type { ChildKeys } from "./keymat.ts";
import type { NewChild } from "../child/child_sa.ts";
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
  const peer = sa.peer;
  const encap = sel.udpEncap || sa.natt;
  const endpoints = {
    local: sa.local.address,
    remote: sa.remote.address,
    ...(encap
      ? {
        // RFC 3948 §2: ESP in UDP on the ports IKE floated to (4500 unless a NAT mapped them).
        encap: {
          localPort: sa.local.port === host.gateway.ike_port
            ? host.gateway.natt_port
            : sa.local.port,
          remotePort: sa.remote.port === 500 ? 4500 : sa.remote.port,
        },
      }
      : {}),
  };
  const margin = peer.rekey_margin;
  const base = {
    peer: peer.name,
    transform: sel.transform,
    endpoints,
    localSelectors: [i.local],
    remoteSelectors: [i.remote],
    esn: sel.esn,
    lifetime: {
      softSeconds: margin > 0 && sel.seconds > margin ? sel.seconds - margin : 0,
      hardSeconds: sel.seconds,
      softBytes: 0,
      hardBytes: sel.bytes,
    },
  };
  return {
    peer: peer.name,
    ikeSa: sa.key,
    transformName: sel.transformName,
    pfsGroup: sel.pfsGroup,
    installedAt: i.now,
    inbound: {
      ...base,
      spi: i.inboundSpi,
      direction: "in",
      keyMaterial: i.keys.inbound,
      replayWindow: peer.replay_window ?? host.gateway.replay_window,
    },
    outbound: {
      ...base,
      spi: sel.peerSpi,
      direction: "out",
      keyMaterial: i.keys.outbound,
      replayWindow: 0,
    },
  };
}
