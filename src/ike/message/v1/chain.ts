/**
 * IKEv1 payload chains (RFC 2408 §3.2): decoding a chain that starts with a given payload type
 * (the header's Next Payload) from plaintext or decrypted bytes, and encoding payload lists
 * with the offsets needed to fill in hashes computed over the rest of the message (RFC 2409
 * §5.5 HASH(1..3)).
 * @module
 */

import { type Decoded, decodeTotal } from "../errors.ts";
import { HEADER_LENGTH } from "../header.ts";
import {
  type EncodedChain,
  GENERIC_HEADER_LENGTH,
  type PayloadSpan,
  readGeneric,
  writeGeneric,
} from "../generic.ts";
import { Reader } from "../reader.ts";
import { Writer } from "../writer.ts";
import { readAttr, writeAttr } from "./attr.ts";
import { readCert, readId, readNatOa, writeCert, writeId, writeNatOa } from "./ident.ts";
import { readDelete, readNotify, writeDelete, writeNotify } from "./notify.ts";
import { PayloadTypeV1 } from "./registry.ts";
import { readSa, writeSa } from "./sa.ts";
import type { DecodedPayloadV1, PayloadV1 as Payload } from "./types.ts";

export type { EncodedChain, PayloadSpan };

const NAMES: Readonly<Record<number, string>> = {
  [PayloadTypeV1.SA]: "SA",
  [PayloadTypeV1.PROPOSAL]: "Proposal",
  [PayloadTypeV1.TRANSFORM]: "Transform",
  [PayloadTypeV1.KE]: "KE",
  [PayloadTypeV1.ID]: "ID",
  [PayloadTypeV1.CERT]: "CERT",
  [PayloadTypeV1.CR]: "CR",
  [PayloadTypeV1.HASH]: "HASH",
  [PayloadTypeV1.SIG]: "SIG",
  [PayloadTypeV1.NONCE]: "NONCE",
  [PayloadTypeV1.N]: "N",
  [PayloadTypeV1.D]: "D",
  [PayloadTypeV1.VID]: "VID",
  [PayloadTypeV1.ATTR]: "ATTR",
  [PayloadTypeV1.NAT_D]: "NAT-D",
  [PayloadTypeV1.NAT_OA]: "NAT-OA",
  [PayloadTypeV1.NAT_D_DRAFT]: "NAT-D",
  [PayloadTypeV1.NAT_OA_DRAFT]: "NAT-OA",
};

/** Short name of an IKEv1 payload type for errors and logs ("payload 77" when unknown). */
export function payloadNameV1(type: number): string {
  return NAMES[type] ?? `payload ${type}`;
}

function readBody(type: number, r: Reader): Payload {
  switch (type) {
    case PayloadTypeV1.SA:
      return readSa(r);
    case PayloadTypeV1.KE:
      return { kind: "ke", data: r.rest() };
    case PayloadTypeV1.ID:
      return readId(r);
    case PayloadTypeV1.CERT:
      return readCert(r, "cert");
    case PayloadTypeV1.CR:
      return readCert(r, "cr");
    case PayloadTypeV1.HASH:
      return { kind: "hash", data: r.rest() };
    case PayloadTypeV1.SIG:
      return { kind: "sig", data: r.rest() };
    case PayloadTypeV1.NONCE:
      return { kind: "nonce", data: r.rest() };
    case PayloadTypeV1.N:
      return readNotify(r);
    case PayloadTypeV1.D:
      return readDelete(r);
    case PayloadTypeV1.VID:
      return { kind: "vid", data: r.rest() };
    case PayloadTypeV1.ATTR:
      return readAttr(r);
    case PayloadTypeV1.NAT_D:
    case PayloadTypeV1.NAT_D_DRAFT:
      return { kind: "nat-d", type, hash: r.rest() };
    case PayloadTypeV1.NAT_OA:
    case PayloadTypeV1.NAT_OA_DRAFT:
      return readNatOa(r, type);
    case PayloadTypeV1.PROPOSAL:
    case PayloadTypeV1.TRANSFORM:
      // RFC 2408 §3.5/3.6: these only occur nested inside an SA payload.
      throw r.error("payload only allowed inside an SA payload", "bad-syntax", r.offset - 4);
    default:
      return { kind: "unknown", type, data: r.rest() };
  }
}

/** A decoded payload chain. */
export interface ChainV1 {
  /** The payloads in wire order. */
  readonly payloads: readonly DecodedPayloadV1[];
  /** The chain's bytes without any padding (view of the input). */
  readonly bytes: Uint8Array;
  /** Absolute offset of `bytes[0]` in the message (28 right after the header). */
  readonly baseOffset: number;
  /** Octets after the last payload (encryption padding, RFC 2409 Appendix B), as a view. */
  readonly padding: Uint8Array;
}

/** Throwing form of {@link decodeV1Payloads} for use inside other decoders. */
export function readV1Payloads(first: number, bytes: Uint8Array, baseOffset: number): ChainV1 {
  const r = new Reader(bytes, baseOffset, "payload chain");
  const payloads: DecodedPayloadV1[] = [];
  let type = first;
  while (type !== PayloadTypeV1.NONE) {
    if (r.remaining === 0) {
      throw r.error(
        `chain announces ${payloadNameV1(type)} but the message ends`,
        "truncated",
        r.offset,
        type,
      );
    }
    const g = readGeneric(r, payloadNameV1(type));
    const p = readBody(type, g.reader);
    payloads.push({ ...p, type, offset: g.offset, raw: g.raw, body: g.body });
    type = g.next;
  }
  const end = r.position;
  return { payloads, bytes: bytes.subarray(0, end), baseOffset, padding: r.rest() };
}

/**
 * Decodes the payload chain in `bytes`, whose first payload has type `first` (the header's
 * Next Payload) and whose first octet is at absolute message offset `baseOffset`. For a
 * decrypted body, octets after the last payload are padding and are returned, not rejected.
 */
export function decodeV1Payloads(
  first: number,
  bytes: Uint8Array,
  baseOffset: number = HEADER_LENGTH,
): Decoded<ChainV1> {
  return decodeTotal(() => readV1Payloads(first, bytes, baseOffset));
}

/**
 * The chain bytes after `payload` up to the end of the last payload, padding excluded: what
 * RFC 2409 §5.5 HASH(1)/HASH(2) and informational HASH cover after the HASH payload.
 */
export function bytesAfterPayload(chain: ChainV1, payload: DecodedPayloadV1): Uint8Array {
  const end = payload.offset - chain.baseOffset + payload.raw.length;
  return chain.bytes.subarray(Math.min(Math.max(end, 0), chain.bytes.length));
}

/** Wire type number of a payload structure. */
export function payloadTypeV1(p: Payload): number {
  switch (p.kind) {
    case "sa":
      return PayloadTypeV1.SA;
    case "ke":
      return PayloadTypeV1.KE;
    case "id":
      return PayloadTypeV1.ID;
    case "cert":
      return PayloadTypeV1.CERT;
    case "cr":
      return PayloadTypeV1.CR;
    case "hash":
      return PayloadTypeV1.HASH;
    case "sig":
      return PayloadTypeV1.SIG;
    case "nonce":
      return PayloadTypeV1.NONCE;
    case "n":
      return PayloadTypeV1.N;
    case "d":
      return PayloadTypeV1.D;
    case "vid":
      return PayloadTypeV1.VID;
    case "attr":
      return PayloadTypeV1.ATTR;
    case "nat-d":
      return p.type ?? PayloadTypeV1.NAT_D;
    case "nat-oa":
      return p.type ?? PayloadTypeV1.NAT_OA;
    case "unknown":
      return p.type;
  }
}

function writeBody(w: Writer, p: Payload): void {
  switch (p.kind) {
    case "sa":
      return writeSa(w, p);
    case "ke":
    case "hash":
    case "sig":
    case "nonce":
    case "vid":
    case "unknown":
      w.bytes(p.data);
      return;
    case "nat-d":
      w.bytes(p.hash);
      return;
    case "id":
      return writeId(w, p);
    case "nat-oa":
      return writeNatOa(w, p);
    case "cert":
    case "cr":
      return writeCert(w, p);
    case "n":
      return writeNotify(w, p);
    case "d":
      return writeDelete(w, p);
    case "attr":
      return writeAttr(w, p);
  }
}

/**
 * Encodes `payloads` as a chain. To fill in a hash over the payloads that follow it (Quick Mode
 * HASH(1)/(2), informational HASH), encode with a zero-filled HASH of the right length, compute
 * the hash over `bytes.subarray(spans[i + 1].offset)` and write it at `spans[i].bodyOffset`.
 * Throws EncodeError for fields out of range.
 */
export function encodeV1Chain(payloads: readonly Payload[]): EncodedChain {
  const w = new Writer(512);
  const spans: PayloadSpan[] = [];
  payloads.forEach((p, i) => {
    const type = payloadTypeV1(p);
    const next = i + 1 < payloads.length ? payloadTypeV1(payloads[i + 1]!) : PayloadTypeV1.NONE;
    const offset = writeGeneric(w, next, 0, payloadNameV1(type), () => writeBody(w, p));
    const length = w.length - offset;
    spans.push({ type, offset, bodyOffset: offset + GENERIC_HEADER_LENGTH, length });
  });
  const first = payloads[0];
  return {
    bytes: w.finish(),
    firstType: first === undefined ? PayloadTypeV1.NONE : payloadTypeV1(first),
    spans,
  };
}

/** Encodes `payloads` as a chain and returns just the bytes. */
export function encodeV1Payloads(payloads: readonly Payload[]): Uint8Array {
  return encodeV1Chain(payloads).bytes;
}
