/**
 * Which configured peer an initiator is (RFC 2409 §5.4: with PSK in Main Mode the key must be
 * chosen from the source address, before the identity is known; Aggressive Mode carries the ID
 * in message 1) and whether its identity payload (RFC 2407 §4.6.2) is the configured
 * `remote_id`. Identity text: an IP address (ID_IPV4_ADDR/ID_IPV6_ADDR), "keyid:TEXT"
 * (ID_KEY_ID), "user@host" (ID_USER_FQDN), anything else a name (ID_FQDN). Pure.
 * @module
 */

import type { Config, PeerConfig } from "../../config/schema.ts";
import { formatIp, parseIp } from "../../net/addr.ts";
import { IdTypeV1 } from "../message/v1/registry.ts";
import type { IdPayloadV1 } from "../message/v1/types.ts";

/** Peers that may be at `address`: exact `remote` matches first, then `%any` peers. */
export function peersForAddress(config: Config, address: string): PeerConfig[] {
  const ip = parseIp(address);
  const exact = config.peer.filter((p) => {
    if (p.remote === "%any") return false;
    const r = parseIp(p.remote);
    return r !== undefined && ip !== undefined && formatIp(r) === formatIp(ip);
  });
  return [...exact, ...config.peer.filter((p) => p.remote === "%any")];
}

/** An ID payload built from identity text. */
export function idPayload(text: string): IdPayloadV1 {
  const ip = parseIp(text);
  const enc = (s: string) => new TextEncoder().encode(s);
  if (ip !== undefined) {
    return {
      kind: "id",
      idType: ip.length === 4 ? IdTypeV1.IPV4_ADDR : IdTypeV1.IPV6_ADDR,
      protocol: 0,
      port: 0,
      data: ip,
    };
  }
  if (text.startsWith("keyid:")) {
    return { kind: "id", idType: IdTypeV1.KEY_ID, protocol: 0, port: 0, data: enc(text.slice(6)) };
  }
  const idType = text.includes("@") ? IdTypeV1.USER_FQDN : IdTypeV1.FQDN;
  return { kind: "id", idType, protocol: 0, port: 0, data: enc(text) };
}

/** An identity payload as text for logs ("fqdn:branch.example", "ipv4:192.0.2.2"). */
export function describeId(id: IdPayloadV1): string {
  switch (id.idType) {
    case IdTypeV1.IPV4_ADDR:
    case IdTypeV1.IPV6_ADDR:
      return (id.idType === IdTypeV1.IPV4_ADDR ? id.data.length === 4 : id.data.length === 16)
        ? formatIp(id.data)
        : `bad address (${id.data.length} bytes)`;
    case IdTypeV1.FQDN:
    case IdTypeV1.USER_FQDN:
      return printable(id.data);
    case IdTypeV1.KEY_ID:
      return `keyid:${printable(id.data)}`;
    default:
      return `id type ${id.idType}`;
  }
}

function printable(b: Uint8Array): string {
  const s = new TextDecoder("utf-8", { fatal: false }).decode(b);
  return s.replace(/[^\x20-\x7e]/g, "?").slice(0, 255);
}

/**
 * Whether the peer's Phase 1 ID (RFC 2407 §4.6.2: protocol and port 0 or 500/UDP) is the
 * configured `remote_id`; any identity is accepted when none is configured.
 */
export function idAcceptable(peer: PeerConfig, id: IdPayloadV1): boolean {
  const portOk = (id.protocol === 0 && id.port === 0) ||
    (id.protocol === 17 && (id.port === 500 || id.port === 4500 || id.port === 0));
  if (!portOk) return false;
  // With certificates the authenticator matches remote_id patterns (DN, '*.') against the ID
  // the certificate proves (src/ike/auth/pubkey.ts).
  if (peer.remote_id === undefined || peer.auth === "pubkey") return true;
  const want = idPayload(peer.remote_id);
  if (want.idType !== id.idType) return false;
  if (want.idType === IdTypeV1.FQDN || want.idType === IdTypeV1.USER_FQDN) {
    return describeId(id).toLowerCase() === peer.remote_id.toLowerCase();
  }
  return want.data.length === id.data.length && want.data.every((x, i) => x === id.data[i]);
}

/** Our ID towards `peer`: its local_id, the gateway's, else the address the peer reached. */
export function localIdentity(config: Config, peer: PeerConfig, localAddress: string): string {
  return peer.local_id ?? config.gateway.local_id ?? localAddress;
}
