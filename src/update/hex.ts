/**
 * Strict hex for key files, manifests and certificates: lowercase only, even length, so every
 * value has exactly one spelling and a flipped character can never decode to the same bytes.
 * @module
 */

import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";

const HEX = /^(?:[0-9a-f]{2})*$/;

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

/** Bytes of strict lowercase hex, or undefined when `text` is not that (or not `length` bytes). */
export function fromHex(text: unknown, length?: number): Uint8Array | undefined {
  if (typeof text !== "string" || !HEX.test(text)) return undefined;
  if (length !== undefined && text.length !== length * 2) return undefined;
  return hexToBytes(text);
}
