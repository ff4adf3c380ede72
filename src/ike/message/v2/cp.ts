/**
 * IKEv2 Configuration payload body (RFC 7296 §3.15): CFG type, 3 reserved octets, then
 * attributes with a reserved bit, 15-bit type, length and value (§3.15.1; the reserved bit is
 * ignored on receipt and sent as zero).
 * @module
 */

import { EncodeError } from "../errors.ts";
import type { Reader } from "../reader.ts";
import type { Writer } from "../writer.ts";
import type { CfgAttributeV2, CpPayloadV2 } from "./types.ts";

/** Decodes a CP body. */
export function readCp(r: Reader): CpPayloadV2 {
  const cfgType = r.u8("CFG type");
  r.skip(3);
  const attributes: CfgAttributeV2[] = [];
  while (r.remaining > 0) {
    const type = r.u16("attribute type") & 0x7fff;
    const length = r.u16("attribute length");
    attributes.push({ type, value: r.bytes(length, `attribute ${type} value`) });
  }
  return { kind: "cp", cfgType, attributes };
}

/** Encodes a CP body. */
export function writeCp(w: Writer, p: CpPayloadV2): void {
  w.u8(p.cfgType, "CFG type").zeros(3);
  for (const a of p.attributes) {
    if (!Number.isInteger(a.type) || a.type < 0 || a.type > 0x7fff) {
      throw new EncodeError("configuration attribute", `type ${a.type} outside 0..32767`);
    }
    w.u16(a.type).u16(a.value.length, `attribute ${a.type} length`).bytes(a.value);
  }
}
