/**
 * IKE identities and certificates (RFC 4945 §3.1): the ID a peer sends must be its
 * certificate's subject DN (ID_DER_ASN1_DN) or one of its subjectAltNames (ID_FQDN → dNSName,
 * ID_USER_FQDN/ID_RFC822_ADDR → rfc822Name, ID_IPV4/6_ADDR → iPAddress), and must match the
 * configured `remote_id`: a DN ("C=CH, O=Example, CN=*": '*' matches one whole attribute
 * value), a name where a leading "*." matches any name under that domain, an email whose
 * local part may be "*" and whose domain may start with "*.", or an
 * address. The ID type numbers are the same in IKEv1 (RFC 2407 §4.6.2.1) and IKEv2
 * (RFC 7296 §3.5).
 * @module
 */

import { formatIp, parseIp } from "../net/addr.ts";
import { parseOne } from "./der.ts";
import {
  decodeName,
  dnMatches,
  encodeName,
  formatName,
  looksLikeDn,
  parseDn,
  type Rdn,
} from "./name.ts";
import type { Certificate } from "./x509.ts";

/** ID payload types shared by both IKE versions. */
export const IdType = { IPV4: 1, FQDN: 2, EMAIL: 3, IPV6: 5, DN: 9, KEY_ID: 11 } as const;

/** An identity as carried in an ID payload. */
export type Identity =
  | { readonly kind: "dn"; readonly rdns: readonly Rdn[] }
  | { readonly kind: "fqdn"; readonly value: string }
  | { readonly kind: "email"; readonly value: string }
  | { readonly kind: "ip"; readonly bytes: Uint8Array }
  | { readonly kind: "keyid"; readonly bytes: Uint8Array };

/** Decodes an ID payload body; undefined for types and encodings not usable with certificates. */
export function identityFromPayload(type: number, data: Uint8Array): Identity | undefined {
  const latin = () => new TextDecoder("latin1").decode(data);
  switch (type) {
    case IdType.IPV4:
      return data.length === 4 ? { kind: "ip", bytes: data } : undefined;
    case IdType.IPV6:
      return data.length === 16 ? { kind: "ip", bytes: data } : undefined;
    case IdType.FQDN:
      return { kind: "fqdn", value: latin() };
    case IdType.EMAIL:
      return { kind: "email", value: latin() };
    case IdType.DN:
      try {
        return { kind: "dn", rdns: decodeName(parseOne(data)).rdns };
      } catch {
        return undefined;
      }
    case IdType.KEY_ID:
      return { kind: "keyid", bytes: data };
    default:
      return undefined;
  }
}

/** The ID payload (type, data) for an identity. */
export function identityToPayload(id: Identity): { type: number; data: Uint8Array } {
  const te = new TextEncoder();
  switch (id.kind) {
    case "dn":
      return { type: IdType.DN, data: encodeName(id.rdns) };
    case "fqdn":
      return { type: IdType.FQDN, data: te.encode(id.value) };
    case "email":
      return { type: IdType.EMAIL, data: te.encode(id.value) };
    case "ip":
      return { type: id.bytes.length === 4 ? IdType.IPV4 : IdType.IPV6, data: id.bytes };
    case "keyid":
      return { type: IdType.KEY_ID, data: id.bytes };
  }
}

/** Configured identity text as an Identity (DN, address, email, "keyid:..", else FQDN). */
export function identityFromText(text: string): Identity {
  const ip = parseIp(text);
  if (ip !== undefined) return { kind: "ip", bytes: ip };
  if (text.startsWith("keyid:")) {
    return { kind: "keyid", bytes: new TextEncoder().encode(text.slice(6)) };
  }
  if (looksLikeDn(text)) return { kind: "dn", rdns: parseDn(text)! };
  if (text.includes("@")) return { kind: "email", value: text };
  return { kind: "fqdn", value: text };
}

/** An identity as text for logs. */
export function describeIdentity(id: Identity): string {
  switch (id.kind) {
    case "dn":
      return formatName(id.rdns);
    case "ip":
      return formatIp(id.bytes);
    case "keyid":
      return `keyid:${Array.from(id.bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
    default:
      return id.value.replace(/[^\x20-\x7e]/g, "?").slice(0, 255);
  }
}

function sameText(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Whether the certificate names this identity (subject DN or a SAN). */
export function certHasIdentity(cert: Certificate, id: Identity): boolean {
  switch (id.kind) {
    case "dn":
      return dnMatches(id.rdns, cert.subject.rdns) ||
        cert.altNames.some((a) => a.type === "dn" && dnMatches(id.rdns, a.value.rdns));
    case "fqdn":
      return cert.altNames.some((a) => a.type === "dns" && sameText(a.value, id.value));
    case "email":
      return cert.altNames.some((a) => a.type === "email" && sameText(a.value, id.value)) ||
        cert.subject.rdns.some((r) => r.type === "E" && sameText(r.value, id.value));
    case "ip":
      return cert.altNames.some((a) => a.type === "ip" && sameBytes(a.bytes, id.bytes));
    case "keyid":
      return false;
  }
}

/** Whether `name` matches `pattern`, where a leading "*." stands for any name under the rest. */
function nameMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase(), n = name.toLowerCase();
  if (p.startsWith("*.")) return n.endsWith(p.slice(1)) && n.length > p.length - 1;
  return p === n;
}

/** Whether the peer's identity matches the configured `remote_id` pattern. */
export function identityMatches(pattern: string, id: Identity): boolean {
  const want = identityFromText(pattern);
  if (want.kind !== id.kind) return false;
  switch (want.kind) {
    case "dn":
      return dnMatches(want.rdns, (id as { rdns: readonly Rdn[] }).rdns);
    case "fqdn":
      return nameMatches(want.value, (id as { value: string }).value);
    case "email": {
      const v = (id as { value: string }).value;
      const at = want.value.lastIndexOf("@");
      const vat = v.lastIndexOf("@");
      return at >= 0 && vat >= 0 &&
        (want.value.slice(0, at) === "*" ||
          nameMatches(want.value.slice(0, at), v.slice(0, vat))) &&
        nameMatches(want.value.slice(at + 1), v.slice(vat + 1));
    }
    case "ip":
    case "keyid":
      return sameBytes(want.bytes, (id as { bytes: Uint8Array }).bytes);
  }
}
