/**
 * A bounded DER reader (ITU-T X.690 §8, §10): every length is checked against what encloses it
 * before use, indefinite lengths and lengths over 2^24 are refused. Only what X.509
 * certificates and CRLs (RFC 5280 §4.1, §5.1) need: TLV walking, OIDs, INTEGERs, BIT STRINGs,
 * UTCTime/GeneralizedTime, strings. Pure, no allocation beyond subarray views.
 * @module
 */

/** A certificate or CRL that does not parse. */
export class DerError extends Error {
  /** `message`: what is wrong, for one log line. */
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

/** One TLV: tag byte, contents and the whole encoding. */
export interface Tlv {
  /** The identifier octet (class, constructed bit, tag number < 31). */
  readonly tag: number;
  /** The contents octets. */
  readonly value: Uint8Array;
  /** The whole TLV (identifier, length and contents). */
  readonly raw: Uint8Array;
}

/** Universal tags used here. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
  UNIVERSAL_STRING: 0x1c,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Reads the TLV at `offset` of `buf`; returns it and the offset after it. */
export function readTlv(buf: Uint8Array, offset: number): { tlv: Tlv; next: number } {
  if (offset + 2 > buf.length) throw new DerError("truncated TLV");
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tags are not used in X.509");
  let len = buf[offset + 1]!;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError("indefinite length (not DER)");
    if (n > 3) throw new DerError("length over 16 MB");
    if (p + n > buf.length) throw new DerError("truncated length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    if (len < 0x80 || (n > 1 && buf[p] === 0)) throw new DerError("non-minimal length (not DER)");
    p += n;
  }
  if (p + len > buf.length) throw new DerError("length beyond the enclosing data");
  return {
    tlv: { tag, value: buf.subarray(p, p + len), raw: buf.subarray(offset, p + len) },
    next: p + len,
  };
}

/** Parses `buf` as exactly one TLV (nothing after it). */
export function parseOne(buf: Uint8Array): Tlv {
  const { tlv, next } = readTlv(buf, 0);
  if (next !== buf.length) throw new DerError("data after the outer SEQUENCE");
  return tlv;
}

/** The TLVs inside a constructed value. */
export function children(t: Tlv): Tlv[] {
  if ((t.tag & 0x20) === 0) throw new DerError(`tag 0x${t.tag.toString(16)} is not constructed`);
  const out: Tlv[] = [];
  let p = 0;
  while (p < t.value.length) {
    const r = readTlv(t.value, p);
    out.push(r.tlv);
    p = r.next;
    if (out.length > 10_000) throw new DerError("too many elements");
  }
  return out;
}

/** `t` if its tag is `tag`, else a DerError naming `what`. */
export function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (t === undefined) throw new DerError(`${what} missing`);
  if (t.tag !== tag) {
    throw new DerError(`${what}: tag 0x${t.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  }
  return t;
}

/** An OBJECT IDENTIFIER in dotted form (X.690 §8.19). */
export function oid(t: Tlv): string {
  const b = expect(t, Tag.OID, "OID").value;
  if (b.length === 0 || b.length > 64) throw new DerError("bad OID length");
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) throw new DerError("OID arc too large");
    if ((b[i]! & 0x80) === 0) {
      if (parts.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        parts.push(first, v - first * 40);
      } else parts.push(v);
      v = 0;
    } else if (i === b.length - 1) throw new DerError("truncated OID");
  }
  return parts.join(".");
}

/** The contents of a BIT STRING with no unused bits (keys, signatures). */
export function bitStringBytes(t: Tlv): Uint8Array {
  const b = expect(t, Tag.BIT_STRING, "BIT STRING").value;
  if (b.length === 0) throw new DerError("empty BIT STRING");
  if (b[0] !== 0) throw new DerError("BIT STRING with unused bits where whole octets are due");
  return b.subarray(1);
}

/** Bit `i` (0 = most significant of the first octet) of a named-bit BIT STRING. */
export function bitSet(t: Tlv, i: number): boolean {
  const b = expect(t, Tag.BIT_STRING, "BIT STRING").value;
  if (b.length === 0 || b[0]! > 7) throw new DerError("bad BIT STRING");
  const byte = 1 + (i >> 3);
  return byte < b.length && (b[byte]! & (0x80 >> (i & 7))) !== 0;
}

/** A non-negative INTEGER as a bigint (serial numbers, pathLen). */
export function integer(t: Tlv): bigint {
  const b = expect(t, Tag.INTEGER, "INTEGER").value;
  if (b.length === 0 || b.length > 64) throw new DerError("bad INTEGER length");
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  if (b[0]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v;
}

/** A BOOLEAN. */
export function boolean(t: Tlv): boolean {
  const b = expect(t, Tag.BOOLEAN, "BOOLEAN").value;
  if (b.length !== 1) throw new DerError("bad BOOLEAN");
  return b[0] !== 0;
}

/** UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5: seconds, 'Z', no fractions) as a Date. */
export function time(t: Tlv): Date {
  const s = new TextDecoder("latin1").decode(t.value);
  let m: RegExpExecArray | null;
  let year: number;
  if (t.tag === Tag.UTC_TIME) {
    m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (m === null) throw new DerError(`bad UTCTime ${JSON.stringify(s)}`);
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy; // RFC 5280 §4.1.2.5.1
  } else if (t.tag === Tag.GENERALIZED_TIME) {
    m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (m === null) throw new DerError(`bad GeneralizedTime ${JSON.stringify(s)}`);
    year = Number(m[1]);
  } else throw new DerError("time expected");
  const d = Date.UTC(
    year,
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
  );
  if (Number.isNaN(d)) throw new DerError("bad time");
  return new Date(d);
}

/** A directory or IA5 string as text (X.520 strings; BMP as UTF-16BE). */
export function text(t: Tlv): string {
  switch (t.tag) {
    case Tag.UTF8_STRING:
      return new TextDecoder("utf-8", { fatal: false }).decode(t.value);
    case Tag.BMP_STRING:
      return new TextDecoder("utf-16be", { fatal: false }).decode(t.value);
    default:
      return new TextDecoder("latin1").decode(t.value);
  }
}

/** Encodes a definite length (X.690 §8.1.3) — for the few structures built here. */
export function encodeTlv(tag: number, value: Uint8Array): Uint8Array {
  const n = value.length;
  const len = n < 0x80
    ? [n]
    : n < 0x100
    ? [0x81, n]
    : n < 0x10000
    ? [0x82, n >> 8, n & 0xff]
    : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(1 + len.length + n);
  out[0] = tag;
  out.set(len, 1);
  out.set(value, 1 + len.length);
  return out;
}

/** Encodes a dotted OID. */
export function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map(Number);
  const body: number[] = [];
  const push = (v: number) => {
    const tmp = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) tmp.unshift((v & 0x7f) | 0x80);
    body.push(...tmp);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return encodeTlv(Tag.OID, new Uint8Array(body));
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
