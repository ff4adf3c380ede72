/**
 * IKEv2 payload bodies with a small fixed head: KE (RFC 7296 §3.4), IDi/IDr (§3.5),
 * CERT/CERTREQ (§3.6, §3.7) and AUTH (§3.8).
 * @module
 */

import type { Reader } from "../reader.ts";
import type { Writer } from "../writer.ts";
import type { AuthPayloadV2, CertPayloadV2, IdPayloadV2, KePayloadV2 } from "./types.ts";

/** Decodes a KE body: group, reserved, key exchange data. */
export function readKe(r: Reader): KePayloadV2 {
  const group = r.u16("DH group");
  r.skip(2);
  return { kind: "ke", group, data: r.rest() };
}

/** Encodes a KE body. */
export function writeKe(w: Writer, p: KePayloadV2): void {
  w.u16(p.group, "KE group").zeros(2).bytes(p.data);
}

/** Decodes an IDi/IDr body: ID type, 3 reserved octets, data. */
export function readId(r: Reader, kind: "idi" | "idr"): IdPayloadV2 {
  const idType = r.u8("ID type");
  r.skip(3);
  return { kind, idType, data: r.rest() };
}

/** Encodes an IDi/IDr body. */
export function writeId(w: Writer, p: IdPayloadV2): void {
  w.u8(p.idType, "ID type").zeros(3).bytes(p.data);
}

/** Decodes a CERT/CERTREQ body: encoding, data. */
export function readCert(r: Reader, kind: "cert" | "certreq"): CertPayloadV2 {
  const encoding = r.u8("certificate encoding");
  return { kind, encoding, data: r.rest() };
}

/** Encodes a CERT/CERTREQ body. */
export function writeCert(w: Writer, p: CertPayloadV2): void {
  w.u8(p.encoding, "certificate encoding").bytes(p.data);
}

/** Decodes an AUTH body: method, 3 reserved octets, data. */
export function readAuth(r: Reader): AuthPayloadV2 {
  const method = r.u8("auth method");
  r.skip(3);
  return { kind: "auth", method, data: r.rest() };
}

/** Encodes an AUTH body. */
export function writeAuth(w: Writer, p: AuthPayloadV2): void {
  w.u8(p.method, "auth method").zeros(3).bytes(p.data);
}
