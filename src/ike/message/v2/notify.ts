/**
 * IKEv2 Notify (RFC 7296 §3.10) and Delete (§3.11) payload bodies.
 * @module
 */

import { EncodeError } from "../errors.ts";
import type { Reader } from "../reader.ts";
import type { Writer } from "../writer.ts";
import type { DeletePayloadV2, NotifyPayloadV2 } from "./types.ts";

/** Decodes a Notify body: protocol, SPI size, type, SPI, data. */
export function readNotify(r: Reader): NotifyPayloadV2 {
  const protocol = r.u8("protocol ID");
  const spiSize = r.u8("SPI size");
  const notifyType = r.u16("notify message type");
  const spi = r.bytes(spiSize, "SPI");
  return { kind: "n", protocol, spi, notifyType, data: r.rest() };
}

/** Encodes a Notify body. */
export function writeNotify(w: Writer, p: NotifyPayloadV2): void {
  w.u8(p.protocol, "N protocol").u8(p.spi.length, "N SPI size").u16(p.notifyType, "notify type");
  w.bytes(p.spi).bytes(p.data);
}

/** Decodes a Delete body; the SPIs must fill the payload exactly. */
export function readDelete(r: Reader): DeletePayloadV2 {
  const protocol = r.u8("protocol ID");
  const spiSize = r.u8("SPI size");
  const count = r.u16("number of SPIs");
  const spis: Uint8Array[] = [];
  for (let i = 0; i < count; i++) spis.push(r.bytes(spiSize, `SPI ${i + 1} of ${count}`));
  r.end("bytes after the SPIs");
  return { kind: "d", protocol, spiSize, spis };
}

/** Encodes a Delete body; every SPI must be `spiSize` octets. */
export function writeDelete(w: Writer, p: DeletePayloadV2): void {
  w.u8(p.protocol, "D protocol").u8(p.spiSize, "D SPI size").u16(p.spis.length, "SPI count");
  for (const spi of p.spis) {
    if (spi.length !== p.spiSize) {
      throw new EncodeError("Delete", `SPI of ${spi.length} octets, SPI size is ${p.spiSize}`);
    }
    w.bytes(spi);
  }
}
