/**
 * Vendor ID payloads this responder recognises and sends: NAT-T (RFC 3947 §3.1 and the
 * draft-ietf-ipsec-nat-t-ike-02/03 values strongSwan also sends) and DPD (RFC 3706 §3).
 * The NAT-T values are MD5 hashes of the names; a unit test recomputes them.
 * @module
 */

const fromHex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

/** MD5("RFC 3947"). */
export const VID_NATT_RFC3947: Uint8Array = fromHex("4a131c81070358455c5728f20e95452f");
/** MD5("draft-ietf-ipsec-nat-t-ike-03"). */
export const VID_NATT_DRAFT_03: Uint8Array = fromHex("7d9419a65310ca6f2c179d9215529d56");
/** MD5("draft-ietf-ipsec-nat-t-ike-02\n"). */
export const VID_NATT_DRAFT_02N: Uint8Array = fromHex("90cb80913ebb696e086381b5ec427b1f");
/** MD5("draft-ietf-ipsec-nat-t-ike-02"). */
export const VID_NATT_DRAFT_02: Uint8Array = fromHex("cd60464335df21f87cfdb2fc68b6a448");
/** RFC 3706 §3: the DPD vendor ID (major 1, minor 0). */
export const VID_DPD: Uint8Array = fromHex("afcad71368a1f1c96b8696fc77570100");

/** What the peer's vendor IDs tell us. */
export interface PeerVendorIds {
  /** The NAT-T flavour to use: RFC 3947 preferred over the drafts. */
  readonly natt: "rfc" | "draft" | undefined;
  /** The draft vendor ID to echo when `natt` is "draft". */
  readonly draftVid: Uint8Array | undefined;
  /** DPD supported. */
  readonly dpd: boolean;
}

const same = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Reads the vendor IDs of a Phase 1 message. */
export function readVendorIds(vids: readonly Uint8Array[]): PeerVendorIds {
  const has = (v: Uint8Array) => vids.some((x) => same(x, v));
  const draftVid = [VID_NATT_DRAFT_03, VID_NATT_DRAFT_02N, VID_NATT_DRAFT_02].find(has);
  const natt = has(VID_NATT_RFC3947) ? "rfc" : draftVid !== undefined ? "draft" : undefined;
  return {
    natt,
    draftVid,
    dpd: vids.some((v) => v.length >= 14 && same(v.subarray(0, 14), VID_DPD.subarray(0, 14))),
  };
}

/** The vendor IDs we answer with: the chosen NAT-T flavour and DPD. */
export function ourVendorIds(peer: PeerVendorIds): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (peer.natt === "rfc") out.push(VID_NATT_RFC3947);
  else if (peer.natt === "draft" && peer.draftVid !== undefined) out.push(peer.draftVid);
  out.push(VID_DPD);
  return out;
}
