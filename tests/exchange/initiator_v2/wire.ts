/**
 * A minimal IKEv2 message encoder and decoder for the scripted initiator (RFC 7296 §3), its
 * own code so that a codec bug in src/ike/ cannot hide. Payloads stay raw bytes (`body`) so
 * tests can mutate them; small builders and parsers cover the payloads the tests look into.
 * Every parser checks lengths and throws `WireError` on a short or inconsistent field.
 * @module
 */

import { Pt } from "./consts.ts";

/** A malformed message or payload. */
export class WireError extends Error {}

// The one byte-concatenation helper of the code base (generic, not IKE logic).
import { concat as cat } from "../../../src/crypto/kdf/primitives.ts";
export { cat };

/** Big-endian u16. */
export function u16(v: number): Uint8Array {
  return Uint8Array.of(v >>> 8 & 0xff, v & 0xff);
}

/** Big-endian u32. */
export function u32(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24 & 0xff, v >>> 16 & 0xff, v >>> 8 & 0xff, v & 0xff);
}

/** Reads a big-endian u16 at `o`. */
export function rd16(b: Uint8Array, o: number): number {
  if (o + 2 > b.length) throw new WireError(`u16 at ${o} past end ${b.length}`);
  return b[o]! << 8 | b[o + 1]!;
}

/** Reads a big-endian u32 at `o`. */
export function rd32(b: Uint8Array, o: number): number {
  if (o + 4 > b.length) throw new WireError(`u32 at ${o} past end ${b.length}`);
  return (b[o]! << 24 | b[o + 1]! << 16 | b[o + 2]! << 8 | b[o + 3]!) >>> 0;
}

/** Lower-case hex. */
export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Bytes from hex (whitespace ignored). */
export function unhex(s: string): Uint8Array {
  const t = s.replace(/\s+/g, "");
  if (t.length % 2 !== 0) throw new WireError("odd hex length");
  return Uint8Array.from(t.match(/../g) ?? [], (x) => parseInt(x, 16));
}

/** The fixed IKE header (RFC 7296 §3.1). */
export interface Header {
  /** Initiator's SPI (8 bytes). */
  readonly spiI: Uint8Array;
  /** Responder's SPI (8 bytes). */
  readonly spiR: Uint8Array;
  /** Next payload. */
  readonly next: number;
  /** Version byte (0x20 for 2.0). */
  readonly version: number;
  /** Exchange type. */
  readonly exchange: number;
  /** Flags (I, V, R). */
  readonly flags: number;
  /** Message ID. */
  readonly messageId: number;
  /** Length field. */
  readonly length: number;
}

/** Header size. */
export const HEADER_LEN = 28;

/** Encodes a header (RFC 7296 §3.1). */
export function encodeHeader(h: Header): Uint8Array {
  if (h.spiI.length !== 8 || h.spiR.length !== 8) throw new WireError("SPIs are 8 bytes");
  return cat(
    h.spiI,
    h.spiR,
    Uint8Array.of(h.next, h.version, h.exchange, h.flags),
    u32(h.messageId),
    u32(h.length),
  );
}

/** Decodes a header. */
export function decodeHeader(b: Uint8Array): Header {
  if (b.length < HEADER_LEN) throw new WireError(`datagram of ${b.length} bytes has no header`);
  return {
    spiI: b.slice(0, 8),
    spiR: b.slice(8, 16),
    next: b[16]!,
    version: b[17]!,
    exchange: b[18]!,
    flags: b[19]!,
    messageId: rd32(b, 20),
    length: rd32(b, 24),
  };
}

/** One payload: its type and raw body (after the 4-byte generic header). */
export interface Payload {
  /** Payload type. */
  readonly type: number;
  /** Body bytes. */
  readonly body: Uint8Array;
  /** Critical bit (RFC 7296 §3.2). */
  readonly critical?: boolean;
  /**
   * For SK/SKF: the Next Payload field (type of the first inner payload); otherwise taken
   * from the following payload.
   */
  readonly next?: number;
}

/** Encodes a payload chain; the last payload's Next Payload is its `next` or 0. */
export function encodeChain(ps: readonly Payload[]): Uint8Array {
  return cat(...ps.map((p, i) => {
    const next = p.next ?? ps[i + 1]?.type ?? Pt.NONE;
    const len = 4 + p.body.length;
    if (len > 0xffff) throw new WireError("payload too long");
    return cat(Uint8Array.of(next, p.critical === true ? 0x80 : 0), u16(len), p.body);
  }));
}

/**
 * Decodes a payload chain starting with type `first` in `b`. SK and SKF end the chain
 * (RFC 7296 §3.14: the Encrypted payload is last); their `next` keeps the inner type.
 */
export function decodeChain(first: number, b: Uint8Array): Payload[] {
  const out: Payload[] = [];
  let type = first;
  let o = 0;
  while (type !== Pt.NONE) {
    if (o + 4 > b.length) throw new WireError(`payload ${type} header past end`);
    const next = b[o]!;
    const critical = (b[o + 1]! & 0x80) !== 0;
    const len = rd16(b, o + 2);
    if (len < 4 || o + len > b.length) {
      throw new WireError(`payload ${type} length ${len} at ${o} (have ${b.length - o})`);
    }
    const body = b.slice(o + 4, o + len);
    o += len;
    if (type === Pt.SK || type === Pt.SKF) {
      out.push({ type, body, critical, next });
      if (o !== b.length) throw new WireError("bytes after the Encrypted payload");
      return out;
    }
    out.push({ type, body, critical });
    type = next;
  }
  if (o !== b.length) throw new WireError(`${b.length - o} bytes after the last payload`);
  return out;
}

/** A whole message: header fields (length computed) and payloads. */
export function encodeMessage(
  h: Omit<Header, "length" | "next" | "version"> & { version?: number },
  ps: readonly Payload[],
): Uint8Array {
  const chain = encodeChain(ps);
  return cat(
    encodeHeader({
      ...h,
      version: h.version ?? 0x20,
      next: ps[0]?.type ?? Pt.NONE,
      length: HEADER_LEN + chain.length,
    }),
    chain,
  );
}

/** A decoded message. */
export interface Message {
  /** The header. */
  readonly header: Header;
  /** The outer payloads (an SK/SKF payload last, still encrypted). */
  readonly payloads: Payload[];
}

/** Decodes a whole message; the Length field must match the datagram. */
export function decodeMessage(b: Uint8Array): Message {
  const header = decodeHeader(b);
  if (header.length !== b.length) {
    throw new WireError(`length field ${header.length} but datagram of ${b.length}`);
  }
  return { header, payloads: decodeChain(header.next, b.subarray(HEADER_LEN)) };
}

// ---- SA payload (RFC 7296 §3.3) ----

/** One transform. */
export interface Transform {
  /** Transform type. */
  readonly type: number;
  /** Transform ID. */
  readonly id: number;
  /** Key Length attribute (bits), when present. */
  readonly keyBits?: number;
}

/** One proposal. */
export interface Proposal {
  /** Proposal number (1-based). */
  readonly num: number;
  /** Protocol ID. */
  readonly protocol: number;
  /** SPI (0, 4 or 8 bytes). */
  readonly spi: Uint8Array;
  /** Transforms. */
  readonly transforms: readonly Transform[];
}

/** SA payload body. */
export function saBody(props: readonly Proposal[]): Uint8Array {
  return cat(...props.map((p, pi) => {
    const ts = cat(...p.transforms.map((t, ti) => {
      const attr = t.keyBits === undefined ? new Uint8Array(0) : cat(u16(0x800e), u16(t.keyBits));
      return cat(
        Uint8Array.of(ti === p.transforms.length - 1 ? 0 : 3, 0),
        u16(8 + attr.length),
        Uint8Array.of(t.type, 0),
        u16(t.id),
        attr,
      );
    }));
    return cat(
      Uint8Array.of(pi === props.length - 1 ? 0 : 2, 0),
      u16(8 + p.spi.length + ts.length),
      Uint8Array.of(p.num, p.protocol, p.spi.length, p.transforms.length),
      p.spi,
      ts,
    );
  }));
}

/** Parses an SA payload body. */
export function parseSa(b: Uint8Array): Proposal[] {
  const out: Proposal[] = [];
  let o = 0;
  while (o < b.length) {
    const last = b[o]!;
    const len = rd16(b, o + 2);
    if (len < 8 || o + len > b.length) throw new WireError(`proposal length ${len}`);
    const num = b[o + 4]!, protocol = b[o + 5]!, spiSize = b[o + 6]!, nt = b[o + 7]!;
    if (8 + spiSize > len) throw new WireError("proposal SPI past end");
    const spi = b.slice(o + 8, o + 8 + spiSize);
    const transforms: Transform[] = [];
    let t = o + 8 + spiSize;
    for (let i = 0; i < nt; i++) {
      const tl = rd16(b, t + 2);
      if (tl < 8 || t + tl > o + len) throw new WireError(`transform length ${tl}`);
      const type = b[t + 4]!, id = rd16(b, t + 6);
      let keyBits: number | undefined;
      for (let a = t + 8; a < t + tl;) {
        const at = rd16(b, a);
        if ((at & 0x8000) !== 0) {
          if ((at & 0x7fff) === 14) keyBits = rd16(b, a + 2);
          a += 4;
        } else {
          a += 4 + rd16(b, a + 2);
        }
      }
      transforms.push(keyBits === undefined ? { type, id } : { type, id, keyBits });
      t += tl;
    }
    if (t !== o + len) throw new WireError("proposal length does not match its transforms");
    out.push({ num, protocol, spi, transforms });
    o += len;
    if (last === 0) break;
  }
  if (o !== b.length) throw new WireError("bytes after the last proposal");
  return out;
}

// ---- simple payload bodies ----

/** KE body (RFC 7296 §3.4). */
export function keBody(group: number, data: Uint8Array): Uint8Array {
  return cat(u16(group), u16(0), data);
}

/** Parses a KE body. */
export function parseKe(b: Uint8Array): { group: number; data: Uint8Array } {
  return { group: rd16(b, 0), data: b.slice(4) };
}

/** ID body (RFC 7296 §3.5); also RestOfInitIDPayload of §2.15. */
export function idBody(idType: number, data: Uint8Array): Uint8Array {
  return cat(Uint8Array.of(idType, 0, 0, 0), data);
}

/** AUTH body (RFC 7296 §3.8). */
export function authBody(method: number, data: Uint8Array): Uint8Array {
  return cat(Uint8Array.of(method, 0, 0, 0), data);
}

/** A Notify (RFC 7296 §3.10). */
export interface Notify {
  /** Protocol ID (0 when about the IKE SA). */
  readonly protocol: number;
  /** SPI. */
  readonly spi: Uint8Array;
  /** Notify message type. */
  readonly type: number;
  /** Notification data. */
  readonly data: Uint8Array;
}

/** Notify body. */
export function notifyBody(n: Notify): Uint8Array {
  return cat(Uint8Array.of(n.protocol, n.spi.length), u16(n.type), n.spi, n.data);
}

/** Parses a Notify body. */
export function parseNotify(b: Uint8Array): Notify {
  if (b.length < 4) throw new WireError("short Notify");
  const spiSize = b[1]!;
  if (4 + spiSize > b.length) throw new WireError("Notify SPI past end");
  return {
    protocol: b[0]!,
    type: rd16(b, 2),
    spi: b.slice(4, 4 + spiSize),
    data: b.slice(4 + spiSize),
  };
}

/** A Notify payload. */
export function notify(
  type: number,
  data: Uint8Array = new Uint8Array(0),
  protocol = 0,
  spi: Uint8Array = new Uint8Array(0),
): Payload {
  return { type: Pt.N, body: notifyBody({ protocol, spi, type, data }) };
}

/** A Delete (RFC 7296 §3.11). */
export interface Delete {
  /** Protocol ID. */
  readonly protocol: number;
  /** SPIs (empty for IKE). */
  readonly spis: readonly Uint8Array[];
}

/** Delete body. */
export function deleteBody(d: Delete): Uint8Array {
  const size = d.protocol === 1 ? 0 : 4;
  return cat(Uint8Array.of(d.protocol, size), u16(d.spis.length), ...d.spis);
}

/** Parses a Delete body. */
export function parseDelete(b: Uint8Array): Delete {
  if (b.length < 4) throw new WireError("short Delete");
  const size = b[1]!, n = rd16(b, 2);
  if (4 + size * n !== b.length) throw new WireError("Delete SPI count does not match length");
  const spis: Uint8Array[] = [];
  for (let i = 0; i < n; i++) spis.push(b.slice(4 + i * size, 4 + (i + 1) * size));
  return { protocol: b[0]!, spis };
}

/** One traffic selector (RFC 7296 §3.13.1), addresses as bytes. */
export interface Selector {
  /** TS type (7 IPv4, 8 IPv6). */
  readonly tsType: number;
  /** IP protocol, 0 any. */
  readonly proto: number;
  /** Start port. */
  readonly startPort: number;
  /** End port. */
  readonly endPort: number;
  /** Start address. */
  readonly start: Uint8Array;
  /** End address. */
  readonly end: Uint8Array;
}

/** TS body. */
export function tsBody(ts: readonly Selector[]): Uint8Array {
  return cat(
    Uint8Array.of(ts.length, 0, 0, 0),
    ...ts.map((s) =>
      cat(
        Uint8Array.of(s.tsType, s.proto),
        u16(8 + s.start.length + s.end.length),
        u16(s.startPort),
        u16(s.endPort),
        s.start,
        s.end,
      )
    ),
  );
}

/** Parses a TS body. */
export function parseTs(b: Uint8Array): Selector[] {
  if (b.length < 4) throw new WireError("short TS");
  const n = b[0]!;
  const out: Selector[] = [];
  let o = 4;
  for (let i = 0; i < n; i++) {
    const len = rd16(b, o + 2);
    if (len < 8 || o + len > b.length || (len - 8) % 2 !== 0) {
      throw new WireError(`selector length ${len}`);
    }
    const al = (len - 8) / 2;
    const tsType = b[o]!;
    // RFC 7296 §3.13.1: TS_IPV4_ADDR_RANGE (7) carries 4-byte addresses, TS_IPV6_ADDR_RANGE (8)
    // 16-byte ones; nothing else is defined.
    if (!((tsType === 7 && al === 4) || (tsType === 8 && al === 16))) {
      throw new WireError(`selector of type ${tsType} with ${al}-byte addresses`);
    }
    out.push({
      tsType,
      proto: b[o + 1]!,
      startPort: rd16(b, o + 4),
      endPort: rd16(b, o + 6),
      start: b.slice(o + 8, o + 8 + al),
      end: b.slice(o + 8 + al, o + len),
    });
    o += len;
  }
  if (o !== b.length) throw new WireError("bytes after the last selector");
  return out;
}

/** IPv4 text → bytes. */
export function ip4(s: string): Uint8Array {
  const parts = s.split(".").map(Number);
  if (parts.length !== 4 || parts.some((x) => !(x >= 0 && x <= 255))) {
    throw new WireError(`not an IPv4 address: ${s}`);
  }
  return Uint8Array.from(parts);
}

/** IPv4 bytes → text. */
export function ip4s(b: Uint8Array): string {
  return Array.from(b).join(".");
}

/** An IPv4 range selector for a CIDR ("10.2.0.0/16"), any protocol and port. */
export function cidr4(s: string, proto = 0, ports: [number, number] = [0, 65535]): Selector {
  const [addr, bits] = s.split("/");
  const a = ip4(addr!);
  const n = Number(bits ?? 32);
  const v = (a[0]! << 24 | a[1]! << 16 | a[2]! << 8 | a[3]!) >>> 0;
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  const lo = (v & mask) >>> 0, hi = (lo | ~mask) >>> 0;
  return {
    tsType: 7,
    proto,
    startPort: ports[0],
    endPort: ports[1],
    start: u32(lo),
    end: u32(hi),
  };
}

/** A selector as text ("10.2.0.0-10.2.255.255" with proto/ports when narrowed). */
export function tsText(s: Selector): string {
  const r = `${ip4s(s.start)}-${ip4s(s.end)}`;
  const p = s.proto === 0 && s.startPort === 0 && s.endPort === 65535
    ? ""
    : `[${s.proto}/${s.startPort}-${s.endPort}]`;
  return r + p;
}
