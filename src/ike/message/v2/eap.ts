/**
 * IKEv2 EAP payload body (RFC 7296 §3.16): one EAP message (RFC 3748 §4) whose own Length
 * field must equal the payload body length; requests and responses carry a method Type.
 * @module
 */

import { EncodeError } from "../errors.ts";
import type { Reader } from "../reader.ts";
import type { Writer } from "../writer.ts";
import { EapCodeV2 } from "./registry.ts";
import type { EapPayloadV2 } from "./types.ts";

const hasType = (code: number) => code === EapCodeV2.REQUEST || code === EapCodeV2.RESPONSE;

/** Decodes an EAP body. */
export function readEap(r: Reader): EapPayloadV2 {
  const at = r.offset;
  const total = r.remaining;
  const code = r.u8("EAP code");
  const identifier = r.u8("EAP identifier");
  const length = r.u16("EAP length");
  if (length !== total) {
    throw r.error(
      `EAP length ${length} but the payload holds ${total} octets`,
      "bad-length",
      at + 2,
    );
  }
  if (hasType(code)) {
    const eapType = r.u8("EAP type");
    return { kind: "eap", code, identifier, eapType, data: r.rest() };
  }
  return { kind: "eap", code, identifier, data: r.rest() };
}

/** Encodes an EAP body; the EAP Length field is computed. */
export function writeEap(w: Writer, p: EapPayloadV2): void {
  const typed = hasType(p.code);
  const length = 4 + (typed ? 1 : 0) + p.data.length;
  w.u8(p.code, "EAP code").u8(p.identifier, "EAP identifier").u16(length, "EAP length");
  if (typed) {
    if (p.eapType === undefined) throw new EncodeError("EAP", `code ${p.code} needs a type`);
    w.u8(p.eapType, "EAP type");
  }
  w.bytes(p.data);
}
