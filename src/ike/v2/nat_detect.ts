/**
 * IKEv2 NAT detection (RFC 7296 §2.23) for both sides of IKE_SA_INIT: the two Notify payloads
 * we send (SHA-1 of SPIi | SPIr | address | port of the sending and the receiving end) and the
 * check of the peer's. The SPIs are those of the message carrying the notifies: in the request
 * SPIr is zero, in the response both are set. Pure.
 * @module
 */

import type { Endpoint } from "../actions.ts";
import { NotifyTypeV2 } from "../message/v2/registry.ts";
import type { DecodedPayloadV2, PayloadV2 } from "../message/v2/types.ts";
import { natDHash } from "../nat.ts";
import { notifies, notify, type V2Crypto } from "./context.ts";

/** NAT_DETECTION_SOURCE_IP (our end) and NAT_DETECTION_DESTINATION_IP (theirs). */
export function natDetectionNotifies(
  crypto: V2Crypto,
  spiI: Uint8Array,
  spiR: Uint8Array,
  local: Endpoint,
  remote: Endpoint,
): PayloadV2[] {
  const src = natDHash(crypto, "sha1", spiI, spiR, local);
  const dst = natDHash(crypto, "sha1", spiI, spiR, remote);
  if (src === undefined || dst === undefined) return [];
  return [
    notify(NotifyTypeV2.NAT_DETECTION_SOURCE_IP, src),
    notify(NotifyTypeV2.NAT_DETECTION_DESTINATION_IP, dst),
  ];
}

/** What the peer's NAT detection payloads say; undefined when it sent none (no NAT-T). */
export interface NatVerdict {
  /** No source hash matched the address and port we saw the message from. */
  readonly peerBehind: boolean;
  /** No destination hash matched the address and port it reached us at. */
  readonly selfBehind: boolean;
}

/** Checks the peer's NAT detection payloads of a message that reached `local` from `remote`. */
export function natVerdict(
  crypto: V2Crypto,
  payloads: readonly DecodedPayloadV2[],
  spiI: Uint8Array,
  spiR: Uint8Array,
  local: Endpoint,
  remote: Endpoint,
): NatVerdict | undefined {
  const srcs = notifies(payloads, NotifyTypeV2.NAT_DETECTION_SOURCE_IP);
  const dsts = notifies(payloads, NotifyTypeV2.NAT_DETECTION_DESTINATION_IP);
  if (srcs.length === 0 || dsts.length === 0) return undefined;
  const same = (a: Uint8Array, b: Uint8Array | undefined) =>
    b !== undefined && a.length === b.length && a.every((x, k) => x === b[k]);
  const theirs = natDHash(crypto, "sha1", spiI, spiR, remote);
  const ours = natDHash(crypto, "sha1", spiI, spiR, local);
  return {
    peerBehind: !srcs.some((n) => same(n.data, theirs)),
    selfBehind: !dsts.some((n) => same(n.data, ours)),
  };
}
