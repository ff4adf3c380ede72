/**
 * The IKEv2 codec: header, payload chains, payload structures, SK helpers and registry
 * numbers. Import from here.
 * @module
 */

export * from "./registry.ts";
export type * from "./types.ts";
export {
  type ChainV2,
  decodeV2Payloads,
  type EncodedChain,
  encodeV2Chain,
  encodeV2Payloads,
  payloadNameV2,
  type PayloadSpan,
  payloadTypeV2,
} from "./chain.ts";
export { decodeV2Message, encodeV2Message, type HeaderInputV2, type MessageV2 } from "./message.ts";
export { type EncryptedParts, splitEncrypted, stripPadding } from "./sk.ts";
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
  FlagV2,
  HEADER_LENGTH,
  type HeaderFields,
  type IsakmpHeader,
} from "../header.ts";
export { nameOf, type Registry } from "../names.ts";
