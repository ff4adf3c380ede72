/**
 * Whole IKEv2 messages (RFC 7296 §3.1): the header, then a payload chain that ends either
 * plainly or with an SK/SKF payload whose contents the caller decrypts and decodes with
 * `decodeV2Payloads(sk.next, stripPadding(plaintext))`.
 * @module
 */

import { type Decoded, DecodeError, decodeTotal } from "../errors.ts";
import {
  encodeMessage,
  HEADER_LENGTH,
  type HeaderFields,
  type IsakmpHeader,
  readHeader,
} from "../header.ts";
import { type ChainV2, encodeV2Chain, readV2Payloads } from "./chain.ts";
import type { DecodedPayloadV2, PayloadV2, SkfPayloadV2, SkPayloadV2 } from "./types.ts";

/** A decoded IKEv2 message. */
export interface MessageV2 extends ChainV2 {
  /** The header. */
  readonly header: IsakmpHeader;
  /** The SK or SKF payload when the message is protected (always the last payload). */
  readonly encrypted: ((SkPayloadV2 | SkfPayloadV2) & DecodedPayloadV2) | undefined;
}

/** Decodes an IKEv2 datagram (major version 2). */
export function decodeV2Message(datagram: Uint8Array): Decoded<MessageV2> {
  return decodeTotal((): MessageV2 => {
    const header = readHeader(datagram);
    if (header.majorVersion !== 2) {
      // RFC 7296 §2.5/§3.1: the caller may answer INVALID_MAJOR_VERSION.
      throw new DecodeError(
        "header",
        17,
        `major version ${header.majorVersion} is not IKEv2`,
        "bad-version",
      );
    }
    const chain = readV2Payloads(
      header.nextPayload,
      datagram.subarray(HEADER_LENGTH),
      HEADER_LENGTH,
    );
    const last = chain.payloads.at(-1);
    const encrypted = last !== undefined && (last.kind === "sk" || last.kind === "skf")
      ? last
      : undefined;
    return { header, ...chain, encrypted };
  });
}

/** Header fields for encoding an IKEv2 message (version 2.0 and Next Payload are filled in). */
export type HeaderInputV2 =
  & Omit<HeaderFields, "nextPayload" | "majorVersion" | "minorVersion">
  & {
    /** Minor version; 0 (the only one defined) when absent. */
    readonly minorVersion?: number;
  };

/**
 * Encodes an IKEv2 message. With an SK payload last, its data occupies the final octets of the
 * result: encode with a zero-filled placeholder of the final size, compute the ICV over the
 * message up to it (RFC 7296 §3.14 / RFC 5282 §5.1 associated data), then fill it in.
 * Throws EncodeError on bad fields.
 */
export function encodeV2Message(header: HeaderInputV2, payloads: readonly PayloadV2[]): Uint8Array {
  const chain = encodeV2Chain(payloads);
  return encodeMessage(
    {
      ...header,
      nextPayload: chain.firstType,
      majorVersion: 2,
      minorVersion: header.minorVersion ?? 0,
    },
    chain.bytes,
  );
}
