/**
 * IKEv1 identification-like payload bodies: ID (RFC 2408 §3.8, RFC 2407 §4.6.2), NAT-OA
 * (RFC 3947 §5.2), CERT (RFC 2408 §3.9) and CR (RFC 2408 §3.10).
 * @module
 */

import type { Reader } from "../reader.ts";
import type { Writer } from "../writer.ts";
import { IdTypeV1 } from "./registry.ts";
import type { CertPayloadV1, IdPayloadV1, NatOaPayloadV1 } from "./types.ts";

/** Decodes an ID body: type, protocol, port, data (RFC 2407 §4.6.2). */
export function readId(r: Reader): IdPayloadV1 {
  const idType = r.u8("ID type");
  const protocol = r.u8("protocol ID");
  const port = r.u16("port");
  return { kind: "id", idType, protocol, port, data: r.rest() };
}

/** Encodes an ID body. */
export function writeId(w: Writer, p: IdPayloadV1): void {
  w.u8(p.idType, "ID type").u8(p.protocol, "ID protocol").u16(p.port, "ID port").bytes(p.data);
}

/**
 * Decodes a NAT-OA body (RFC 3947 §5.2): only ID_IPV4_ADDR with 4 octets or ID_IPV6_ADDR with
 * 16 octets are allowed.
 */
export function readNatOa(r: Reader, type: number): NatOaPayloadV1 {
  const at = r.offset;
  const idType = r.u8("ID type");
  r.skip(3);
  const address = r.rest();
  const want = idType === IdTypeV1.IPV4_ADDR ? 4 : idType === IdTypeV1.IPV6_ADDR ? 16 : -1;
  if (want < 0) throw r.error(`ID type ${idType} is not an address type`, "bad-syntax", at);
  if (address.length !== want) {
    throw r.error(`address of ${address.length} octets for ID type ${idType}`, "bad-length", at);
  }
  return { kind: "nat-oa", type, idType, address };
}

/** Encodes a NAT-OA body. */
export function writeNatOa(w: Writer, p: NatOaPayloadV1): void {
  w.u8(p.idType, "NAT-OA ID type").zeros(3).bytes(p.address);
}

/** Decodes a CERT or CR body: encoding octet then data. */
export function readCert(r: Reader, kind: "cert" | "cr"): CertPayloadV1 {
  const encoding = r.u8("certificate encoding");
  return { kind, encoding, data: r.rest() };
}

/** Encodes a CERT or CR body. */
export function writeCert(w: Writer, p: CertPayloadV1): void {
  w.u8(p.encoding, "certificate encoding").bytes(p.data);
}
