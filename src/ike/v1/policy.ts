/**
 * Which configured peer an IKEv1 initiator is (RFC 2409 §5.4: with PSK in Main Mode the key
 * must be chosen from the source address, before the identity is known; Aggressive Mode carries
 * the ID in message 1) and whether its identity payload (RFC 2407 §4.6.2) is the configured
 * `remote_id`. The identity forms themselves are shared with IKEv2 (src/ike/identity.ts). Pure.
 * @module
 */

import type { PeerConfig } from "../../config/schema.ts";
import { describeIdentity, identityMatches, identityOf } from "../identity.ts";
import type { IdPayloadV1 } from "../message/v1/types.ts";

export { localIdentity, peersForAddress } from "../identity.ts";

/** An ID payload built from identity text (protocol and port 0). */
export function idPayload(text: string): IdPayloadV1 {
  return { kind: "id", ...identityOf(text), protocol: 0, port: 0 };
}

/** An identity payload as text for logs ("branch.example", "192.0.2.2"). */
export function describeId(id: IdPayloadV1): string {
  return describeIdentity(id);
}

/**
 * Whether the peer's Phase 1 ID (RFC 2407 §4.6.2: protocol and port 0 or 500/UDP) is the
 * configured `remote_id`; any identity is accepted when none is configured.
 */
export function idAcceptable(peer: PeerConfig, id: IdPayloadV1): boolean {
  const portOk = (id.protocol === 0 && id.port === 0) ||
    (id.protocol === 17 && (id.port === 500 || id.port === 4500 || id.port === 0));
  return portOk && identityMatches(peer, id);
}
