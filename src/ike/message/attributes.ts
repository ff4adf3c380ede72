/**
 * ISAKMP data attributes (RFC 2408 §3.3), used by IKEv1 transforms and ATTR payloads and by
 * IKEv2 transform attributes (RFC 7296 §3.3.5): a 16-bit type word whose top bit (AF) selects
 * Type/Value (a 2-octet value in the second word) or Type/Length/Value.
 * @module
 */

import { type Decoded, decodeTotal, EncodeError } from "./errors.ts";
import { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

/**
 * One data attribute. `value` is a number for the TV form (AF = 1, 0..65535) and the value
 * octets for the TLV form (AF = 0); the form is kept so re-encoding gives the same bytes.
 */
export interface DataAttribute {
  /** Attribute type, 15 bits (AF bit excluded). */
  readonly type: number;
  /** TV value, or TLV value octets (a view into the message when decoded). */
  readonly value: number | Uint8Array;
}

const AF = 0x8000;

/** Reads attributes until `r` is exhausted; an attribute cut short is a DecodeError. */
export function readAttributes(r: Reader): DataAttribute[] {
  const out: DataAttribute[] = [];
  while (r.remaining > 0) {
    const word = r.u16("attribute type");
    const type = word & 0x7fff;
    if ((word & AF) !== 0) {
      out.push({ type, value: r.u16("attribute value") });
    } else {
      const len = r.u16("attribute length");
      out.push({ type, value: r.bytes(len, `attribute ${type} value`) });
    }
  }
  return out;
}

/** Writes attributes in their recorded form. */
export function writeAttributes(w: Writer, attrs: readonly DataAttribute[]): void {
  for (const a of attrs) {
    if (!Number.isInteger(a.type) || a.type < 0 || a.type > 0x7fff) {
      throw new EncodeError("data attribute", `type ${a.type} outside 0..32767`);
    }
    if (typeof a.value === "number") {
      w.u16(a.type | AF).u16(a.value, `attribute ${a.type} value`);
    } else {
      w.u16(a.type).u16(a.value.length, `attribute ${a.type} length`).bytes(a.value);
    }
  }
}

/**
 * The attribute's value as an unsigned integer: the TV value, or a TLV value of 1..6 octets in
 * network order (RFC 2407 §4.5 allows variable attributes such as life durations in either
 * form). Undefined for an empty or longer TLV value.
 */
export function attributeNumber(a: DataAttribute): number | undefined {
  if (typeof a.value === "number") return a.value;
  if (a.value.length === 0 || a.value.length > 6) return undefined;
  let n = 0;
  for (const b of a.value) n = n * 256 + b;
  return n;
}

/**
 * A TV attribute when `value` fits in 16 bits, else the shortest TLV form (RFC 2409 App. A:
 * variable attributes may be sent as basic when they fit in two octets).
 */
export function numberAttribute(type: number, value: number): DataAttribute {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new EncodeError("data attribute", `value ${value} is not a non-negative integer`);
  }
  if (value <= 0xffff) return { type, value };
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  while (bytes.length % 4 !== 0) bytes.unshift(0);
  return { type, value: Uint8Array.from(bytes) };
}

/** The first attribute of `type`, if any. */
export function findAttribute(
  attrs: readonly DataAttribute[],
  type: number,
): DataAttribute | undefined {
  return attrs.find((a) => a.type === type);
}

/**
 * Decodes a standalone attribute list, e.g. the data of an RFC 2407 §4.6.3.1
 * RESPONDER-LIFETIME notification; `offset` is the absolute offset of `bytes` for errors.
 */
export function decodeAttributes(
  bytes: Uint8Array,
  offset = 0,
  what = "attributes",
): Decoded<DataAttribute[]> {
  return decodeTotal(() => readAttributes(new Reader(bytes, offset, what)));
}

/** Encodes a standalone attribute list (e.g. RESPONDER-LIFETIME notification data). */
export function encodeAttributes(attrs: readonly DataAttribute[]): Uint8Array {
  const w = new Writer(4 * attrs.length + 8);
  writeAttributes(w, attrs);
  return w.finish();
}
