/** Vendor IDs: the NAT-T values are MD5 of their names (RFC 3947 §3.1), flavour choice, DPD. */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  ourVendorIds,
  readVendorIds,
  VID_DPD,
  VID_NATT_DRAFT_02,
  VID_NATT_DRAFT_02N,
  VID_NATT_DRAFT_03,
  VID_NATT_RFC3947,
} from "../../../../src/ike/v1/vendor_ids.ts";

const md5 = (s: string) => new Uint8Array(createHash("md5").update(s).digest());

Deno.test("NAT-T vendor IDs are MD5 of their names", () => {
  assert.deepEqual(VID_NATT_RFC3947, md5("RFC 3947"));
  assert.deepEqual(VID_NATT_DRAFT_03, md5("draft-ietf-ipsec-nat-t-ike-03"));
  assert.deepEqual(VID_NATT_DRAFT_02, md5("draft-ietf-ipsec-nat-t-ike-02"));
  assert.deepEqual(VID_NATT_DRAFT_02N, md5("draft-ietf-ipsec-nat-t-ike-02\n"));
});

Deno.test("readVendorIds prefers RFC 3947 and echoes a draft otherwise; DPD recognised", () => {
  const both = readVendorIds([VID_NATT_DRAFT_02N, VID_NATT_RFC3947, VID_DPD]);
  assert.equal(both.natt, "rfc");
  assert.equal(both.dpd, true);
  assert.deepEqual(ourVendorIds(both), [VID_NATT_RFC3947, VID_DPD]);
  const draft = readVendorIds([VID_NATT_DRAFT_02N]);
  assert.equal(draft.natt, "draft");
  assert.equal(draft.dpd, false);
  assert.deepEqual(ourVendorIds(draft), [VID_NATT_DRAFT_02N, VID_DPD]);
  assert.equal(readVendorIds([new Uint8Array(16)]).natt, undefined);
});
