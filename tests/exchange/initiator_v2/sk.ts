/**
 * The Encrypted payload (RFC 7296 §3.14) and the Encrypted Fragment payload (RFC 7383 §2.5)
 * for the scripted initiator: AES-CBC with an HMAC integrity transform, AES-GCM (RFC 5282) and
 * ChaCha20-Poly1305 (RFC 7634), from node:crypto. `seal` builds whole datagrams; `open`
 * authenticates and decrypts one, returning the inner payload bytes.
 * @module
 */

import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";
import { Pt } from "./consts.ts";
import type { EncrAlg } from "./consts.ts";
import {
  cat,
  decodeChain,
  encodeHeader,
  type Header,
  HEADER_LEN,
  type Payload,
  rd16,
  u16,
  WireError,
} from "./wire.ts";

/** Algorithms protecting an IKE SA. */
export interface SkSuite {
  /** Encryption. */
  readonly encr: EncrAlg;
  /** Integrity (undefined with an AEAD). */
  readonly integ?: { readonly hash: string; readonly icv: number };
}

/** One direction's keys. */
export interface SkKeys {
  /** SK_e (AEAD: key | 4-byte salt). */
  readonly e: Uint8Array;
  /** SK_a (empty with an AEAD). */
  readonly a: Uint8Array;
}

function aead(s: SkSuite): boolean {
  return s.encr.icv > 0;
}

function icvLen(s: SkSuite): number {
  return aead(s) ? s.encr.icv : s.integ!.icv;
}

function ivLen(s: SkSuite): number {
  return aead(s) ? 8 : 16;
}

function cipherKey(s: SkSuite, k: SkKeys): { key: Uint8Array; salt: Uint8Array } {
  if (!aead(s)) return { key: k.e, salt: new Uint8Array(0) };
  return { key: k.e.subarray(0, k.e.length - 4), salt: k.e.subarray(k.e.length - 4) };
}

/** The AEAD side of node:crypto's cipher objects (GCM and ChaCha20-Poly1305). */
interface Aead {
  setAAD(b: Uint8Array): void;
  setAuthTag(b: Uint8Array): void;
  getAuthTag(): Uint8Array;
  update(b: Uint8Array): Uint8Array;
  final(): Uint8Array;
}

function aeadCipher(s: SkSuite, decrypt: boolean, key: Uint8Array, nonce: Uint8Array): Aead {
  const opts = { authTagLength: s.encr.icv } as never;
  return (decrypt
    ? createDecipheriv(s.encr.cipher, key, nonce, opts)
    : createCipheriv(s.encr.cipher, key, nonce, opts)) as unknown as Aead;
}

/**
 * Encrypts `inner` into an SK payload (or one SKF fragment when `frag` is given) behind
 * header `h`, returning the whole datagram. `iv` is the IV to use (tests inject it);
 * `padLen` adds that much padding beyond what the cipher needs.
 */
export function seal(
  s: SkSuite,
  k: SkKeys,
  h: Omit<Header, "length" | "next">,
  firstInner: number,
  inner: Uint8Array,
  iv: Uint8Array,
  frag?: { readonly num: number; readonly total: number },
  extraPad = 0,
): Uint8Array {
  if (iv.length !== ivLen(s)) throw new WireError(`IV of ${iv.length} bytes`);
  const { key, salt } = cipherKey(s, k);
  const block = aead(s) ? 1 : 16;
  const padNeeded = (block - (inner.length + 1) % block) % block;
  const pad = padNeeded + extraPad * block;
  const plain = cat(inner, new Uint8Array(pad), Uint8Array.of(pad));
  const icv = icvLen(s);
  const fragHdr = frag === undefined ? new Uint8Array(0) : cat(u16(frag.num), u16(frag.total));
  const payLen = 4 + fragHdr.length + iv.length + plain.length + icv;
  const head = cat(
    encodeHeader({
      ...h,
      next: frag === undefined ? Pt.SK : Pt.SKF,
      length: HEADER_LEN + payLen,
    }),
    Uint8Array.of(firstInner, 0),
    u16(payLen),
    fragHdr,
  );
  if (aead(s)) {
    // RFC 5282 §5.1 / RFC 7634 §2: A = header .. payload header; nonce = salt | IV.
    const c = aeadCipher(s, false, key, cat(salt, iv));
    c.setAAD(head);
    const ct = cat(c.update(plain), c.final());
    return cat(head, iv, ct, c.getAuthTag());
  }
  const c = createCipheriv(s.encr.cipher, key, iv);
  c.setAutoPadding(false);
  const ct = cat(c.update(plain), c.final());
  const body = cat(head, iv, ct);
  const mac = createHmac(s.integ!.hash, k.a).update(body).digest().subarray(0, icv);
  return cat(body, mac);
}

/** What `open` found. */
export interface Opened {
  /** The header. */
  readonly header: Header;
  /** Next Payload of the SK/SKF payload (first inner type; 0 in later fragments). */
  readonly firstInner: number;
  /** Decrypted inner bytes (padding removed). */
  readonly inner: Uint8Array;
  /** Fragment number and total (SKF only). */
  readonly frag?: { readonly num: number; readonly total: number };
}

/**
 * Authenticates and decrypts a datagram whose only payload is SK or SKF. Throws WireError
 * when the ICV does not verify or the structure is wrong.
 */
export function open(s: SkSuite, k: SkKeys, dgram: Uint8Array): Opened {
  if (dgram.length < HEADER_LEN + 4) throw new WireError("too short for SK");
  const next = dgram[16]!;
  const header = {
    spiI: dgram.slice(0, 8),
    spiR: dgram.slice(8, 16),
    next,
    version: dgram[17]!,
    exchange: dgram[18]!,
    flags: dgram[19]!,
    messageId: (dgram[20]! << 24 | dgram[21]! << 16 | dgram[22]! << 8 | dgram[23]!) >>> 0,
    length: (dgram[24]! << 24 | dgram[25]! << 16 | dgram[26]! << 8 | dgram[27]!) >>> 0,
  };
  if (header.length !== dgram.length) throw new WireError("length field mismatch");
  if (next !== Pt.SK && next !== Pt.SKF) throw new WireError(`first payload ${next} is not SK`);
  const firstInner = dgram[HEADER_LEN]!;
  const payLen = rd16(dgram, HEADER_LEN + 2);
  if (HEADER_LEN + payLen !== dgram.length) throw new WireError("SK is not the whole message");
  const fragLen = next === Pt.SKF ? 4 : 0;
  const frag = next === Pt.SKF
    ? { num: rd16(dgram, HEADER_LEN + 4), total: rd16(dgram, HEADER_LEN + 6) }
    : undefined;
  const headEnd = HEADER_LEN + 4 + fragLen;
  const ivl = ivLen(s), icv = icvLen(s);
  if (dgram.length < headEnd + ivl + icv + 1) throw new WireError("SK too short");
  const iv = dgram.subarray(headEnd, headEnd + ivl);
  const ct = dgram.subarray(headEnd + ivl, dgram.length - icv);
  const tag = dgram.subarray(dgram.length - icv);
  const { key, salt } = cipherKey(s, k);
  let plain: Uint8Array;
  try {
    if (aead(s)) {
      const d = aeadCipher(s, true, key, cat(salt, iv));
      d.setAAD(dgram.subarray(0, headEnd));
      d.setAuthTag(tag);
      plain = cat(d.update(ct), d.final());
    } else {
      const mac = createHmac(s.integ!.hash, k.a).update(dgram.subarray(0, dgram.length - icv))
        .digest().subarray(0, icv);
      if (!mac.equals(tag)) throw new WireError("integrity check failed");
      if (ct.length % 16 !== 0) throw new WireError("ciphertext not a block multiple");
      const d = createDecipheriv(s.encr.cipher, key, iv);
      d.setAutoPadding(false);
      plain = cat(d.update(ct), d.final());
    }
  } catch (e) {
    if (e instanceof WireError) throw e;
    throw new WireError(`SK does not authenticate: ${(e as Error).message}`);
  }
  const pad = plain[plain.length - 1]!;
  if (pad + 1 > plain.length) throw new WireError("pad length past start");
  const inner = plain.slice(0, plain.length - 1 - pad);
  return frag === undefined ? { header, firstInner, inner } : { header, firstInner, inner, frag };
}

/** Inner payloads of an opened (or reassembled) SK. */
export function innerPayloads(firstInner: number, inner: Uint8Array): Payload[] {
  return decodeChain(firstInner, inner);
}
