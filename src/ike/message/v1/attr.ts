/**
 * IKEv1 mode-config Attributes payload body (draft-dukes-ike-mode-cfg-02 §3.2): message type,
 * reserved, identifier, then ISAKMP data attributes (RFC 2408 §3.3). An attribute half
 * contained in the payload makes the whole payload malformed.
 * @module
 */

import { readAttributes, writeAttributes } from "../attributes.ts";
import type { Reader } from "../reader.ts";
import type { Writer } from "../writer.ts";
import type { AttrPayloadV1 } from "./types.ts";

/** Decodes an ATTR body. */
export function readAttr(r: Reader): AttrPayloadV1 {
  const cfgType = r.u8("attribute message type");
  r.skip(1);
  const identifier = r.u16("identifier");
  return { kind: "attr", cfgType, identifier, attributes: readAttributes(r) };
}

/** Encodes an ATTR body. */
export function writeAttr(w: Writer, p: AttrPayloadV1): void {
  w.u8(p.cfgType, "ATTR type").zeros(1).u16(p.identifier, "ATTR identifier");
  writeAttributes(w, p.attributes);
}
