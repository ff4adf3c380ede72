/**
 * The one failure type of the IKE message decoders, and the result shape every public decoder
 * returns. Decoding is total: a decoder returns `{ ok: true, value }` or `{ ok: false, error }`
 * with a {@link DecodeError}; it never throws for any input.
 * @module
 */

/**
 * What kind of malformation was found, so a responder can pick its answer (e.g. RFC 2408 §3.14.1
 * PAYLOAD-MALFORMED vs BAD-PROPOSAL-SYNTAX, RFC 7296 §3.10.1 UNSUPPORTED_CRITICAL_PAYLOAD).
 */
export type DecodeErrorCode =
  /** Fewer bytes than a field or a length field needs. */
  | "truncated"
  /** A length field that is too small, too large or inconsistent with its content. */
  | "bad-length"
  /** A field value the format forbids (e.g. a proposal chained to a non-proposal). */
  | "bad-syntax"
  /** A protocol version the decoder does not speak. */
  | "bad-version"
  /** Bytes left over where the format allows none. */
  | "trailing-bytes"
  /** IKEv2: an unknown payload with the critical bit set (RFC 7296 §2.5). */
  | "unsupported-critical";

/** A malformed message: which payload, at which byte offset of the message, and why. */
export class DecodeError extends Error {
  /** Payload (or structure) name, e.g. "ISAKMP header", "SA", "Transform". */
  readonly payload: string;
  /** Byte offset from the start of the message (or of the buffer given to the decoder). */
  readonly offset: number;
  /** Short human-readable reason (never contains message bytes). */
  readonly reason: string;
  /** Kind of malformation. */
  readonly code: DecodeErrorCode;
  /** Payload type number involved, when one is (e.g. the unknown critical payload's type). */
  readonly payloadType: number | undefined;

  /** Creates the error; `message` reads "<payload> at offset <offset>: <reason>". */
  constructor(
    payload: string,
    offset: number,
    reason: string,
    code: DecodeErrorCode,
    payloadType?: number,
  ) {
    super(`${payload} at offset ${offset}: ${reason}`);
    this.name = "DecodeError";
    this.payload = payload;
    this.offset = offset;
    this.reason = reason;
    this.code = code;
    this.payloadType = payloadType;
  }
}

/** A decoder's result: the decoded value or the typed error. */
export type Decoded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: DecodeError };

/**
 * Runs an internal decoding step that signals malformed input by throwing {@link DecodeError}
 * and turns it into a {@link Decoded} result. Any other exception is a bug in the decoder and
 * is re-thrown unchanged (the fuzz test exists to find those).
 */
export function decodeTotal<T>(step: () => T): Decoded<T> {
  try {
    return { ok: true, value: step() };
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, error: e };
    throw e;
  }
}

/**
 * Thrown by encoders when asked to encode a structure that cannot be represented (a field out
 * of range, a payload longer than 65535 bytes). This is a caller bug, not a peer's fault.
 */
export class EncodeError extends Error {
  /** Creates the error for `what` with `reason`. */
  constructor(what: string, reason: string) {
    super(`cannot encode ${what}: ${reason}`);
    this.name = "EncodeError";
  }
}
