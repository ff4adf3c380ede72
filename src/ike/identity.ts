/**
 * IKE identities shared by both versions (RFC 2407 §4.6.2.1, RFC 7296 §3.5; the type numbers
 * agree): an IP address (ID_IPV4_ADDR/ID_IPV6_ADDR), "keyid:TEXT" (ID_KEY_ID), a distinguished
 * name "C=CH, O=Example, CN=gw" (ID_DER_ASN1_DN, the DER of the Name; src/pki/name.ts parses,
 * encodes and compares it, '*' matching one whole attribute value), "user@host" (ID_USER_FQDN /
 * ID_RFC822_ADDR), anything else a name (ID_FQDN); which configured peers may be at an
 * address; whether a received identity is the configured `remote_id`. Pure.
 * @module
 */

import type { Config, PeerConfig } from "../config/schema.ts";
import { formatIp, parseIp } from "../net/addr.ts";
import { parseOne } from "../pki/der.ts";
import {
  decodeName,
  dnMatches,
  encodeName,
  formatName,
  looksLikeDn,
  parseDn,
} from "../pki/name.ts";
import type { Rdn } from "../pki/name.ts";

/** Identity type numbers common to IKEv1 and IKEv2. */
export const IdType = {
  IPV4_ADDR: 1,
  FQDN: 2,
  USER_FQDN: 3,
  IPV6_ADDR: 5,
  DER_ASN1_DN: 9,
  KEY_ID: 11,
} as const;

/** An identity: type and data as carried in an ID payload. */
export interface Identity {
  /** ID type ({@link IdType}). */
  readonly idType: number;
  /** Identification data. */
  readonly data: Uint8Array;
}

/** The identity for configured text. */
export function identityOf(text: string): Identity {
  const ip = parseIp(text);
  const enc = (s: string) => new TextEncoder().encode(s);
  if (ip !== undefined) {
    return { idType: ip.length === 4 ? IdType.IPV4_ADDR : IdType.IPV6_ADDR, data: ip };
  }
  if (text.startsWith("keyid:")) return { idType: IdType.KEY_ID, data: enc(text.slice(6)) };
  if (looksLikeDn(text)) return { idType: IdType.DER_ASN1_DN, data: encodeName(parseDn(text)!) };
  return { idType: text.includes("@") ? IdType.USER_FQDN : IdType.FQDN, data: enc(text) };
}

function printable(b: Uint8Array): string {
  const s = new TextDecoder("utf-8", { fatal: false }).decode(b);
  return s.replace(/[^\x20-\x7e]/g, "?").slice(0, 255);
}

/** An identity as text for logs ("branch.example", "192.0.2.2", "keyid:abc"). */
export function describeIdentity(id: Identity): string {
  switch (id.idType) {
    case IdType.IPV4_ADDR:
    case IdType.IPV6_ADDR:
      return (id.idType === IdType.IPV4_ADDR ? id.data.length === 4 : id.data.length === 16)
        ? formatIp(id.data)
        : `bad address (${id.data.length} bytes)`;
    case IdType.FQDN:
    case IdType.USER_FQDN:
      return printable(id.data);
    case IdType.KEY_ID:
      return `keyid:${printable(id.data)}`;
    case IdType.DER_ASN1_DN: {
      const rdns = dnOf(id.data);
      return rdns === undefined ? "undecodable DN" : formatName(rdns);
    }
    default:
      return `id type ${id.idType}`;
  }
}

/** The attributes of a DER Name; undefined when it does not decode. */
function dnOf(der: Uint8Array): readonly Rdn[] | undefined {
  try {
    return decodeName(parseOne(der)).rdns;
  } catch {
    return undefined;
  }
}

/** Whether `id` is the peer's configured `remote_id` (any identity when none is set). */
export function identityMatches(peer: PeerConfig, id: Identity): boolean {
  // With certificates the authenticator matches remote_id patterns (DN, '*.') against the ID
  // the certificate proves (src/ike/auth/pubkey.ts).
  if (peer.remote_id === undefined || peer.auth === "pubkey") return true;
  const want = identityOf(peer.remote_id);
  if (want.idType !== id.idType) return false;
  if (want.idType === IdType.DER_ASN1_DN) {
    // The same attributes in the same order, values compared as text (not DER string types).
    const got = dnOf(id.data);
    return got !== undefined && dnMatches(parseDn(peer.remote_id)!, got);
  }
  if (want.idType === IdType.FQDN || want.idType === IdType.USER_FQDN) {
    return describeIdentity(id).toLowerCase() === peer.remote_id.toLowerCase();
  }
  return want.data.length === id.data.length && want.data.every((x, i) => x === id.data[i]);
}

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

/** Our identity towards `peer`: its local_id, the gateway's, else the address the peer reached. */
export function localIdentity(config: Config, peer: PeerConfig, localAddress: string): string {
  return peer.local_id ?? config.gateway.local_id ?? localAddress;
}
