/**
 * X.501 distinguished names (RFC 5280 §4.1.2.4): decoded into attribute/value pairs, printed as
 * "C=CH, O=Example, CN=gw.example.net", parsed back from that text (config `remote_id`,
 * `local_id`), encoded for ID payloads (ID_DER_ASN1_DN) and compared case-insensitively with
 * collapsed spaces (the RFC 5280 §7.1 comparison, simplified to what deployments use).
 * @module
 */

import {
  children,
  concat,
  DerError,
  encodeOid,
  encodeTlv,
  expect,
  oid,
  Tag,
  text,
  type Tlv,
} from "./der.ts";

/** One attribute of a name ("CN", "gw.example.net"). */
export interface Rdn {
  /** Short name (C, O, CN, ...) or the dotted OID. */
  readonly type: string;
  /** The value as text. */
  readonly value: string;
}

/** A name: its attributes in order and its DER encoding. */
export interface DistinguishedName {
  readonly rdns: readonly Rdn[];
  readonly der: Uint8Array;
}

const SHORT: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "street",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.12": "title",
  "2.5.4.42": "GN",
  "1.2.840.113549.1.9.1": "E",
  "0.9.2342.19200300.100.1.25": "DC",
  "0.9.2342.19200300.100.1.1": "UID",
};
const BY_SHORT: Record<string, string> = Object.fromEntries(
  Object.entries(SHORT).map(([o, s]) => [s.toLowerCase(), o]),
);
BY_SHORT["emailaddress"] = "1.2.840.113549.1.9.1";
BY_SHORT["s"] = "2.5.4.8";

/** `s` with control characters (C0 and DEL) replaced by '?'. */
export function printable(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    out += c < 0x20 || c === 0x7f ? "?" : ch;
  }
  return out;
}

/** Decodes a Name (SEQUENCE OF SET OF AttributeTypeAndValue). */
export function decodeName(t: Tlv): DistinguishedName {
  const rdns: Rdn[] = [];
  for (const set of children(expect(t, Tag.SEQUENCE, "Name"))) {
    for (const atv of children(expect(set, Tag.SET, "RDN"))) {
      const [type, value] = children(expect(atv, Tag.SEQUENCE, "AttributeTypeAndValue"));
      if (type === undefined || value === undefined) throw new DerError("bad attribute");
      const o = oid(type);
      // Control characters never reach logs or `show` (a name could carry line breaks).
      rdns.push({ type: SHORT[o] ?? o, value: printable(text(value)) });
    }
  }
  return { rdns, der: t.raw };
}

/** "C=CH, O=Example, CN=gw" (commas in values escaped with a backslash). */
export function formatName(n: DistinguishedName | readonly Rdn[]): string {
  const rdns = "rdns" in n ? n.rdns : n;
  return rdns.map((r) => `${r.type}=${r.value.replace(/([,\\])/g, "\\$1")}`).join(", ");
}

/** Whether text is a DN ("C=.., CN=..") rather than a name or address. */
export function looksLikeDn(s: string): boolean {
  return s.includes("=") && parseDn(s) !== undefined;
}

/** Parses "C=CH, O=Example, CN=gw" (',' or '/' separated); undefined on unknown attributes. */
export function parseDn(s: string): Rdn[] | undefined {
  const parts: string[] = [];
  let cur = "";
  const sep = s.includes(",") || !s.trim().startsWith("/") ? "," : "/";
  const body = sep === "/" ? s.trim().slice(1) : s;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === "\\" && i + 1 < body.length) cur += body[++i];
    else if (c === sep) {
      parts.push(cur);
      cur = "";
    } else cur += c;
  }
  parts.push(cur);
  const out: Rdn[] = [];
  for (const p of parts) {
    const eq = p.indexOf("=");
    if (eq <= 0) return undefined;
    const key = p.slice(0, eq).trim();
    const o = /^[0-9]+(\.[0-9]+)+$/.test(key) ? key : BY_SHORT[key.toLowerCase()];
    if (o === undefined) return undefined;
    out.push({ type: SHORT[o] ?? o, value: p.slice(eq + 1).trim() });
  }
  return out.length > 0 ? out : undefined;
}

function norm(v: string): string {
  return v.trim().replace(/\s+/g, " ").toLowerCase();
}

/** Same attributes in the same order with equal values; a pattern value "*" matches any. */
export function dnMatches(pattern: readonly Rdn[], name: readonly Rdn[]): boolean {
  if (pattern.length !== name.length) return false;
  return pattern.every((p, i) => {
    const n = name[i]!;
    return p.type === n.type && (p.value === "*" || norm(p.value) === norm(n.value));
  });
}

/** Equal names (issuer/subject chaining). */
export function sameName(a: DistinguishedName, b: DistinguishedName): boolean {
  return dnMatches(a.rdns, b.rdns);
}

/** DER of a Name built from attributes (ID_DER_ASN1_DN payloads for a configured DN). */
export function encodeName(rdns: readonly Rdn[]): Uint8Array {
  const te = new TextEncoder();
  const sets = rdns.map((r) => {
    const o = BY_SHORT[r.type.toLowerCase()] ?? r.type;
    // RFC 5280 §4.1.2.4: countryName and emails are PrintableString/IA5String; others UTF8.
    const tag = o === "2.5.4.6"
      ? Tag.PRINTABLE_STRING
      : o === "1.2.840.113549.1.9.1"
      ? Tag.IA5_STRING
      : Tag.UTF8_STRING;
    const atv = encodeTlv(Tag.SEQUENCE, concat(encodeOid(o), encodeTlv(tag, te.encode(r.value))));
    return encodeTlv(Tag.SET, atv);
  });
  return encodeTlv(Tag.SEQUENCE, concat(...sets));
}
