/**
 * The 28-byte header shared by IKEv1 (ISAKMP, RFC 2408 §3.1) and IKEv2 (RFC 7296 §3.1):
 * two 8-octet SPIs (IKEv1 "cookies"), next payload, major/minor version nibbles, exchange type,
 * flags, message ID and the total message length, which must equal the datagram's length.
 * @module
 */

import { type Decoded, decodeTotal, EncodeError } from "./errors.ts";
import { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

/** Octets in the fixed header. */
export const HEADER_LENGTH = 28;

/** IKEv1 header flags, RFC 2408 §3.1 (bit 0 first). */
export const FlagV1 = {
  /** E: the payloads after the header are encrypted. */
  ENCRYPTION: 0x01,
  /** C: commit (key exchange synchronisation). */
  COMMIT: 0x02,
  /** A: authentication only (informational exchange). */
  AUTH_ONLY: 0x04,
} as const;

/** IKEv2 header flags, RFC 7296 §3.1. */
export const FlagV2 = {
  /** I: sent by the original initiator of the IKE SA. */
  INITIATOR: 0x08,
  /** V: the sender can speak a higher major version. */
  VERSION: 0x10,
  /** R: this message is a response. */
  RESPONSE: 0x20,
} as const;

/** The header fields an encoder needs (the length is computed). */
export interface HeaderFields {
  /** Initiator's SPI (IKEv1: initiator cookie), 8 octets. */
  readonly spiI: Uint8Array;
  /** Responder's SPI (IKEv1: responder cookie), 8 octets; zeros when not yet known. */
  readonly spiR: Uint8Array;
  /** Type of the first payload. */
  readonly nextPayload: number;
  /** Major version: 1 for IKEv1, 2 for IKEv2. */
  readonly majorVersion: number;
  /** Minor version: 0 for both. */
  readonly minorVersion: number;
  /** Exchange type (registry numbers in v1/registry.ts, v2/registry.ts). */
  readonly exchangeType: number;
  /** Flag bits ({@link FlagV1}, {@link FlagV2}). */
  readonly flags: number;
  /** Message ID (unsigned 32-bit). */
  readonly messageId: number;
}

/** A decoded header: the fields plus the Length field (always the datagram's length). */
export interface IsakmpHeader extends HeaderFields {
  /** Total message length in octets, header included. */
  readonly length: number;
}

/**
 * Decodes the header at the start of `datagram` and checks its Length field against the
 * datagram (RFC 2408 §3.1, RFC 7296 §3.1: length of the total message). The SPIs are copies,
 * safe to keep after the datagram buffer is reused.
 */
export function decodeHeader(datagram: Uint8Array): Decoded<IsakmpHeader> {
  return decodeTotal(() => readHeader(datagram));
}

/** Throwing form of {@link decodeHeader} for use inside other decoders. */
export function readHeader(datagram: Uint8Array): IsakmpHeader {
  const r = new Reader(datagram, 0, "header");
  const spiI = r.bytes(8, "initiator SPI").slice();
  const spiR = r.bytes(8, "responder SPI").slice();
  const nextPayload = r.u8("next payload");
  const version = r.u8("version");
  const exchangeType = r.u8("exchange type");
  const flags = r.u8("flags");
  const messageId = r.u32("message ID");
  const at = r.offset;
  const length = r.u32("length");
  if (length < HEADER_LENGTH) {
    throw r.error(`length ${length} is shorter than the header`, "bad-length", at);
  }
  if (length > datagram.length) {
    throw r.error(`length ${length} exceeds the datagram (${datagram.length})`, "truncated", at);
  }
  if (length < datagram.length) {
    throw r.error(
      `length ${length} leaves ${datagram.length - length} datagram bytes unaccounted`,
      "bad-length",
      at,
    );
  }
  return {
    spiI,
    spiR,
    nextPayload,
    majorVersion: version >>> 4,
    minorVersion: version & 0x0f,
    exchangeType,
    flags,
    messageId,
    length,
  };
}

/**
 * Writes the header for a message whose payload bytes (`bodyLength` octets, possibly
 * encrypted) follow; the Length field is HEADER_LENGTH + bodyLength.
 */
export function writeHeader(w: Writer, h: HeaderFields, bodyLength: number): void {
  if (h.spiI.length !== 8 || h.spiR.length !== 8) {
    throw new EncodeError("header", "SPIs must be 8 octets each");
  }
  w.bytes(h.spiI).bytes(h.spiR).u8(h.nextPayload, "next payload");
  if (h.majorVersion > 15 || h.minorVersion > 15) {
    throw new EncodeError("header", "version numbers are 4-bit");
  }
  w.u8((h.majorVersion << 4) | h.minorVersion, "version")
    .u8(h.exchangeType, "exchange type")
    .u8(h.flags, "flags")
    .u32(h.messageId, "message ID")
    .u32(HEADER_LENGTH + bodyLength, "length");
}

/** A whole message: header fields, then `body` (a payload chain or an encrypted body). */
export function encodeMessage(h: HeaderFields, body: Uint8Array): Uint8Array {
  const w = new Writer(HEADER_LENGTH + body.length);
  writeHeader(w, h, body.length);
  w.bytes(body);
  return w.finish();
}
