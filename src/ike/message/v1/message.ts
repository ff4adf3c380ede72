/**
 * Whole IKEv1 messages: the ISAKMP header (RFC 2408 §3.1) followed by a plaintext payload chain,
 * or — with the E flag — an encrypted body the caller decrypts (RFC 2409 Appendix B) and then
 * decodes with `decodeV1Payloads(header.nextPayload, plaintext)`.
 * @module
 */

import { type Decoded, DecodeError, decodeTotal } from "../errors.ts";
import {
  encodeMessage,
  FlagV1,
  HEADER_LENGTH,
  type HeaderFields,
  type IsakmpHeader,
  readHeader,
} from "../header.ts";
import { type ChainV1, encodeV1Chain, readV1Payloads } from "./chain.ts";
import type { PayloadV1 } from "./types.ts";

/** A plaintext IKEv1 message: header and decoded chain (no padding allowed). */
export interface PlainMessageV1 extends ChainV1 {
  /** The header. */
  readonly header: IsakmpHeader;
  /** Discriminator: payloads are decoded. */
  readonly encrypted: false;
}

/** An IKEv1 message with the E flag: header and the encrypted body, still undecoded. */
export interface EncryptedMessageV1 {
  /** The header (its `nextPayload` is the type of the first encrypted payload). */
  readonly header: IsakmpHeader;
  /** Discriminator: `body` is ciphertext. */
  readonly encrypted: true;
  /** Everything after the header (view): the ciphertext, whose last block is the next IV. */
  readonly body: Uint8Array;
}

/** A decoded IKEv1 message. */
export type MessageV1 = PlainMessageV1 | EncryptedMessageV1;

/**
 * Decodes an IKEv1 datagram (major version 1). Plaintext chains must end exactly at the end of
 * the message; encrypted bodies are returned as they are.
 */
export function decodeV1Message(datagram: Uint8Array): Decoded<MessageV1> {
  return decodeTotal((): MessageV1 => {
    const header = readHeader(datagram);
    if (header.majorVersion !== 1) {
      throw new DecodeError(
        "header",
        17,
        `major version ${header.majorVersion} is not IKEv1`,
        "bad-version",
      );
    }
    const body = datagram.subarray(HEADER_LENGTH, header.length);
    if ((header.flags & FlagV1.ENCRYPTION) !== 0) return { header, encrypted: true, body };
    const chain = readV1Payloads(header.nextPayload, body, HEADER_LENGTH);
    if (chain.padding.length !== 0) {
      throw new DecodeError(
        "payload chain",
        HEADER_LENGTH + chain.bytes.length,
        `${chain.padding.length} bytes after the last payload of a plaintext message`,
        "trailing-bytes",
      );
    }
    return { header, encrypted: false, ...chain };
  });
}

/** Header fields for encoding an IKEv1 message (version 1.0 and Next Payload are filled in). */
export type HeaderInputV1 =
  & Omit<HeaderFields, "nextPayload" | "majorVersion" | "minorVersion">
  & {
    /** Minor version; 0 (the only one defined) when absent. */
    readonly minorVersion?: number;
  };

/** Encodes a plaintext IKEv1 message from a header and payloads. Throws EncodeError on bad fields. */
export function encodeV1Message(header: HeaderInputV1, payloads: readonly PayloadV1[]): Uint8Array {
  const chain = encodeV1Chain(payloads);
  return encodeMessage(
    {
      ...header,
      nextPayload: chain.firstType,
      majorVersion: 1,
      minorVersion: header.minorVersion ?? 0,
    },
    chain.bytes,
  );
}

/**
 * Encodes an IKEv1 message whose body is already encrypted: `firstPayload` is the type of the
 * first plaintext payload (the header's Next Payload); the E flag is set.
 */
export function encodeV1EncryptedMessage(
  header: HeaderInputV1,
  firstPayload: number,
  ciphertext: Uint8Array,
): Uint8Array {
  return encodeMessage(
    {
      ...header,
      flags: header.flags | FlagV1.ENCRYPTION,
      nextPayload: firstPayload,
      majorVersion: 1,
      minorVersion: header.minorVersion ?? 0,
    },
    ciphertext,
  );
}
