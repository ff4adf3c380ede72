/**
 * IKEv1 Notification (RFC 2408 §3.14) and Delete (RFC 2408 §3.15) payload bodies.
 * @module
 */

import { EncodeError } from "../errors.ts";
import type { Reader } from "../reader.ts";
import type { Writer } from "../writer.ts";
import type { DeletePayloadV1, NotifyPayloadV1 } from "./types.ts";

/** Decodes a Notification body: DOI, protocol, SPI size, type, SPI, data. */
export function readNotify(r: Reader): NotifyPayloadV1 {
  const doi = r.u32("DOI");
  const protocol = r.u8("protocol ID");
  const spiSize = r.u8("SPI size");
  const notifyType = r.u16("notify message type");
  const spi = r.bytes(spiSize, "SPI");
  return { kind: "n", doi, protocol, spi, notifyType, data: r.rest() };
}

/** Encodes a Notification body. */
export function writeNotify(w: Writer, p: NotifyPayloadV1): void {
  w.u32(p.doi, "N DOI").u8(p.protocol, "N protocol").u8(p.spi.length, "N SPI size");
  w.u16(p.notifyType, "notify type").bytes(p.spi).bytes(p.data);
}

/** Decodes a Delete body; the SPI count times the SPI size must fill the payload exactly. */
export function readDelete(r: Reader): DeletePayloadV1 {
  const doi = r.u32("DOI");
  const protocol = r.u8("protocol ID");
  const spiSize = r.u8("SPI size");
  const count = r.u16("number of SPIs");
  const spis: Uint8Array[] = [];
  for (let i = 0; i < count; i++) spis.push(r.bytes(spiSize, `SPI ${i + 1} of ${count}`));
  r.end("bytes after the SPIs");
  return { kind: "d", doi, protocol, spiSize, spis };
}

/** Encodes a Delete body; every SPI must be `spiSize` octets. */
export function writeDelete(w: Writer, p: DeletePayloadV1): void {
  w.u32(p.doi, "D DOI").u8(p.protocol, "D protocol").u8(p.spiSize, "D SPI size");
  w.u16(p.spis.length, "number of SPIs");
  for (const spi of p.spis) {
    if (spi.length !== p.spiSize) {
      throw new EncodeError("Delete", `SPI of ${spi.length} octets, SPI size is ${p.spiSize}`);
    }
    w.bytes(spi);
  }
}
