/**
 * The IKEv1 (ISAKMP) codec: header, payload chains, payload structures and registry numbers.
 * Import from here.
 * @module
 */

export * from "./registry.ts";
export type * from "./types.ts";
export {
  bytesAfterPayload,
  type ChainV1,
  decodeV1Payloads,
  type EncodedChain,
  encodeV1Chain,
  encodeV1Payloads,
  payloadNameV1,
  type PayloadSpan,
  payloadTypeV1,
} from "./chain.ts";
export {
  decodeV1Message,
  encodeV1EncryptedMessage,
  encodeV1Message,
  type EncryptedMessageV1,
  type HeaderInputV1,
  type MessageV1,
  type PlainMessageV1,
} from "./message.ts";
export {
  attributeNumber,
  type DataAttribute,
  decodeAttributes,
  encodeAttributes,
  findAttribute,
  numberAttribute,
} from "../attributes.ts";
export { type Decoded, DecodeError, type DecodeErrorCode, EncodeError } from "../errors.ts";
export {
  decodeHeader,
  FlagV1,
  HEADER_LENGTH,
  type HeaderFields,
  type IsakmpHeader,
} from "../header.ts";
export { nameOf, type Registry } from "../names.ts";
