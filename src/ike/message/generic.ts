/**
 * The generic payload header shared by IKEv1 (RFC 2408 §3.2) and IKEv2 (RFC 7296 §3.2):
 * next payload (1 octet), a flags/reserved octet (IKEv2: critical bit), payload length
 * (2 octets, header included), and the writer side that back-patches the length.
 * @module
 */

import { DecodeError, EncodeError } from "./errors.ts";
import { Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";

/** Octets in the generic payload header. */
export const GENERIC_HEADER_LENGTH = 4;

/** One payload cut out of a chain, before its body is interpreted. */
export interface GenericPayload {
  /** Type of the payload that follows this one (0: none). */
  readonly next: number;
  /** The octet after Next Payload: IKEv1 reserved, IKEv2 critical bit + reserved. */
  readonly flags: number;
  /** Absolute offset of the payload's first octet. */
  readonly offset: number;
  /** The whole payload, generic header included (view). */
  readonly raw: Uint8Array;
  /** The payload after its generic header (view). */
  readonly body: Uint8Array;
  /** A reader over `body` that reports errors under `name`. */
  readonly reader: Reader;
}

/**
 * Reads one payload from `r` (positioned at a generic header); `name` names it in errors. The
 * length must cover the generic header and fit in what is left.
 */
export function readGeneric(r: Reader, name: string): GenericPayload {
  const offset = r.offset;
  const start = r.position;
  const head = r.sub(GENERIC_HEADER_LENGTH, name, "generic payload header");
  const next = head.u8();
  const flags = head.u8();
  const length = head.u16();
  if (length < GENERIC_HEADER_LENGTH) {
    throw new DecodeError(
      name,
      offset + 2,
      `payload length ${length} is shorter than its header`,
      "bad-length",
    );
  }
  if (length - GENERIC_HEADER_LENGTH > r.remaining) {
    throw new DecodeError(
      name,
      offset + 2,
      `payload length ${length} exceeds the ${r.remaining + GENERIC_HEADER_LENGTH} bytes left`,
      "truncated",
    );
  }
  const body = r.bytes(length - GENERIC_HEADER_LENGTH);
  return {
    next,
    flags,
    offset,
    raw: r.viewFrom(start),
    body,
    reader: new Reader(body, offset + GENERIC_HEADER_LENGTH, name),
  };
}

/**
 * Writes a payload: generic header with `next` and `flags`, then whatever `body` writes;
 * the length field is patched afterwards. Returns the offset of the payload in `w`.
 */
export function writeGeneric(
  w: Writer,
  next: number,
  flags: number,
  name: string,
  body: () => void,
): number {
  const at = w.length;
  w.u8(next, `${name} next payload`).u8(flags, `${name} flags`).u16(0);
  body();
  const length = w.length - at;
  if (length > 0xffff) throw new EncodeError(name, `payload length ${length} exceeds 65535`);
  w.patch16(at + 2, length);
  return at;
}

/** Where one encoded payload sits in an encoded chain. */
export interface PayloadSpan {
  /** Payload type. */
  readonly type: number;
  /** Offset of its generic header in the chain bytes. */
  readonly offset: number;
  /** Offset of its body (offset + 4). */
  readonly bodyOffset: number;
  /** Whole payload length, generic header included. */
  readonly length: number;
}

/** An encoded chain: bytes, the type to put in the header's Next Payload, and payload spans. */
export interface EncodedChain {
  /** The chain (no padding). */
  readonly bytes: Uint8Array;
  /** Type of the first payload (0 for an empty chain). */
  readonly firstType: number;
  /** One span per payload, in order. */
  readonly spans: readonly PayloadSpan[];
}
