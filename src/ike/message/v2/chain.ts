/**
 * IKEv2 payload chains (RFC 7296 §3.2): decoding from the header's Next Payload (or an SK
 * payload's inner type after decryption), with the critical-bit rule of §2.5 — an unknown
 * payload is kept when its critical bit is clear and reported as UNSUPPORTED_CRITICAL_PAYLOAD
 * when set — and SK/SKF as the last payload (§3.14, RFC 7383 §2.5); encoding with spans.
 * @module
 */

import { type Decoded, decodeTotal, EncodeError } from "../errors.ts";
import {
  type EncodedChain,
  GENERIC_HEADER_LENGTH,
  type PayloadSpan,
  readGeneric,
  writeGeneric,
} from "../generic.ts";
import { HEADER_LENGTH } from "../header.ts";
import { Reader } from "../reader.ts";
import { Writer } from "../writer.ts";
import { readCp, writeCp } from "./cp.ts";
import { readEap, writeEap } from "./eap.ts";
import {
  readAuth,
  readCert,
  readId,
  readKe,
  writeAuth,
  writeCert,
  writeId,
  writeKe,
} from "./ident.ts";
import { readDelete, readNotify, writeDelete, writeNotify } from "./notify.ts";
import { PayloadTypeV2 } from "./registry.ts";
import { readSa, writeSa } from "./sa.ts";
import { readSk, readSkf, writeSk, writeSkf } from "./sk.ts";
import { readTs, writeTs } from "./ts.ts";
import type { DecodedPayloadV2, PayloadV2 } from "./types.ts";

export type { EncodedChain, PayloadSpan };

/** Generic header flag octet: the critical bit (RFC 7296 §3.2). */
const CRITICAL = 0x80;

const NAMES: Readonly<Record<number, string>> = {
  [PayloadTypeV2.SA]: "SA",
  [PayloadTypeV2.KE]: "KE",
  [PayloadTypeV2.IDI]: "IDi",
  [PayloadTypeV2.IDR]: "IDr",
  [PayloadTypeV2.CERT]: "CERT",
  [PayloadTypeV2.CERTREQ]: "CERTREQ",
  [PayloadTypeV2.AUTH]: "AUTH",
  [PayloadTypeV2.NONCE]: "Nonce",
  [PayloadTypeV2.N]: "N",
  [PayloadTypeV2.D]: "D",
  [PayloadTypeV2.V]: "V",
  [PayloadTypeV2.TSI]: "TSi",
  [PayloadTypeV2.TSR]: "TSr",
  [PayloadTypeV2.SK]: "SK",
  [PayloadTypeV2.CP]: "CP",
  [PayloadTypeV2.EAP]: "EAP",
  [PayloadTypeV2.SKF]: "SKF",
};

/** Short name of an IKEv2 payload type for errors and logs ("payload 77" when unknown). */
export function payloadNameV2(type: number): string {
  return NAMES[type] ?? `payload ${type}`;
}

/** Decodes one body; undefined for a type this codec does not know. */
function readBody(type: number, next: number, r: Reader): PayloadV2 | undefined {
  switch (type) {
    case PayloadTypeV2.SA:
      return readSa(r);
    case PayloadTypeV2.KE:
      return readKe(r);
    case PayloadTypeV2.IDI:
      return readId(r, "idi");
    case PayloadTypeV2.IDR:
      return readId(r, "idr");
    case PayloadTypeV2.CERT:
      return readCert(r, "cert");
    case PayloadTypeV2.CERTREQ:
      return readCert(r, "certreq");
    case PayloadTypeV2.AUTH:
      return readAuth(r);
    case PayloadTypeV2.NONCE:
      return { kind: "nonce", data: r.rest() };
    case PayloadTypeV2.N:
      return readNotify(r);
    case PayloadTypeV2.D:
      return readDelete(r);
    case PayloadTypeV2.V:
      return { kind: "v", data: r.rest() };
    case PayloadTypeV2.TSI:
      return readTs(r, "tsi");
    case PayloadTypeV2.TSR:
      return readTs(r, "tsr");
    case PayloadTypeV2.SK:
      return readSk(r, next);
    case PayloadTypeV2.SKF:
      return readSkf(r, next);
    case PayloadTypeV2.CP:
      return readCp(r);
    case PayloadTypeV2.EAP:
      return readEap(r);
    default:
      return undefined;
  }
}

/** A decoded IKEv2 payload chain. */
export interface ChainV2 {
  /** The payloads in wire order; an SK or SKF payload is always the last. */
  readonly payloads: readonly DecodedPayloadV2[];
  /** Absolute offset of the chain's first octet in the message. */
  readonly baseOffset: number;
}

/** Throwing form of {@link decodeV2Payloads}. */
export function readV2Payloads(first: number, bytes: Uint8Array, baseOffset: number): ChainV2 {
  const r = new Reader(bytes, baseOffset, "payload chain");
  const payloads: DecodedPayloadV2[] = [];
  let type = first;
  while (type !== PayloadTypeV2.NONE) {
    if (r.remaining === 0) {
      throw r.error(
        `chain announces ${payloadNameV2(type)} but the message ends`,
        "truncated",
        r.offset,
        type,
      );
    }
    const name = payloadNameV2(type);
    const g = readGeneric(r, name);
    const critical = (g.flags & CRITICAL) !== 0;
    const known = readBody(type, g.next, g.reader);
    if (known === undefined && critical) {
      // RFC 7296 §2.5: reject the message, answer UNSUPPORTED_CRITICAL_PAYLOAD with the type.
      throw g.reader.error(
        `unknown payload type ${type} has the critical bit set`,
        "unsupported-critical",
        g.offset,
        type,
      );
    }
    const p: PayloadV2 = known ?? { kind: "unknown", type, data: g.body };
    payloads.push({ ...p, type, critical, offset: g.offset, raw: g.raw, body: g.body });
    if (type === PayloadTypeV2.SK || type === PayloadTypeV2.SKF) {
      // RFC 7296 §3.14 / RFC 7383 §2.5: the encrypted payload is the last one; its Next
      // Payload field names the first payload inside.
      r.end(`bytes after the ${name} payload`);
      break;
    }
    type = g.next;
  }
  r.end("bytes after the last payload");
  return { payloads, baseOffset };
}

/**
 * Decodes the chain in `bytes` starting with payload type `first`; `baseOffset` is the
 * absolute offset of `bytes[0]` (28 for a message body; for decrypted SK contents pass the
 * offset of the SK data so errors point near the right place). Bytes after the last payload
 * are an error (IKEv2 padding is removed with `stripPadding` before decoding).
 */
export function decodeV2Payloads(
  first: number,
  bytes: Uint8Array,
  baseOffset: number = HEADER_LENGTH,
): Decoded<ChainV2> {
  return decodeTotal(() => readV2Payloads(first, bytes, baseOffset));
}

/** Wire type number of a payload structure. */
export function payloadTypeV2(p: PayloadV2): number {
  switch (p.kind) {
    case "sa":
      return PayloadTypeV2.SA;
    case "ke":
      return PayloadTypeV2.KE;
    case "idi":
      return PayloadTypeV2.IDI;
    case "idr":
      return PayloadTypeV2.IDR;
    case "cert":
      return PayloadTypeV2.CERT;
    case "certreq":
      return PayloadTypeV2.CERTREQ;
    case "auth":
      return PayloadTypeV2.AUTH;
    case "nonce":
      return PayloadTypeV2.NONCE;
    case "n":
      return PayloadTypeV2.N;
    case "d":
      return PayloadTypeV2.D;
    case "v":
      return PayloadTypeV2.V;
    case "tsi":
      return PayloadTypeV2.TSI;
    case "tsr":
      return PayloadTypeV2.TSR;
    case "sk":
      return PayloadTypeV2.SK;
    case "skf":
      return PayloadTypeV2.SKF;
    case "cp":
      return PayloadTypeV2.CP;
    case "eap":
      return PayloadTypeV2.EAP;
    case "unknown":
      return p.type;
  }
}

function writeBody(w: Writer, p: PayloadV2): void {
  switch (p.kind) {
    case "sa":
      return writeSa(w, p);
    case "ke":
      return writeKe(w, p);
    case "idi":
    case "idr":
      return writeId(w, p);
    case "cert":
    case "certreq":
      return writeCert(w, p);
    case "auth":
      return writeAuth(w, p);
    case "nonce":
    case "v":
    case "unknown":
      w.bytes(p.data);
      return;
    case "n":
      return writeNotify(w, p);
    case "d":
      return writeDelete(w, p);
    case "tsi":
    case "tsr":
      return writeTs(w, p);
    case "sk":
      return writeSk(w, p);
    case "skf":
      return writeSkf(w, p);
    case "cp":
      return writeCp(w, p);
    case "eap":
      return writeEap(w, p);
  }
}

/**
 * Encodes `payloads` as a chain. An SK/SKF payload must be the last one; its Next Payload is
 * its `next` field (the first inner payload). Throws EncodeError for fields out of range.
 */
export function encodeV2Chain(payloads: readonly PayloadV2[]): EncodedChain {
  const w = new Writer(512);
  const spans: PayloadSpan[] = [];
  payloads.forEach((p, i) => {
    const type = payloadTypeV2(p);
    const following = payloads[i + 1];
    let next: number;
    if (p.kind === "sk" || p.kind === "skf") {
      if (following !== undefined) {
        throw new EncodeError(payloadNameV2(type), "must be the last payload");
      }
      next = p.next;
    } else {
      next = following === undefined ? PayloadTypeV2.NONE : payloadTypeV2(following);
    }
    const flags = p.critical === true ? CRITICAL : 0;
    const offset = writeGeneric(w, next, flags, payloadNameV2(type), () => writeBody(w, p));
    spans.push({
      type,
      offset,
      bodyOffset: offset + GENERIC_HEADER_LENGTH,
      length: w.length - offset,
    });
  });
  const first = payloads[0];
  return {
    bytes: w.finish(),
    firstType: first === undefined ? PayloadTypeV2.NONE : payloadTypeV2(first),
    spans,
  };
}

/** Encodes `payloads` as a chain and returns just the bytes. */
export function encodeV2Payloads(payloads: readonly PayloadV2[]): Uint8Array {
  return encodeV2Chain(payloads).bytes;
}
