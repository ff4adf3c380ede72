import assert from "node:assert/strict";
import {
  algorithm,
  ALGORITHMS,
  GROUP_KEYWORDS,
  groupName,
  v2Keyword,
} from "../../../src/ike/algorithms.ts";
import {
  DhGroupV2,
  EncrV2,
  IntegV2,
  PrfV2,
  TransformTypeV2,
} from "../../../src/ike/message/v2/registry.ts";
import {
  EspTransformV1,
  IkeEncryptionV1,
  IkeHashV1,
  IpsecAuthV1,
} from "../../../src/ike/message/v1/registry.ts";

Deno.test("algorithm table: keywords unique, IDs agree with the codec registries", () => {
  const words = ALGORITHMS.map((a) => a.keyword);
  assert.equal(new Set(words).size, words.length);
  assert.deepEqual(algorithm("aes256")?.v2, { type: TransformTypeV2.ENCR, id: EncrV2.AES_CBC });
  assert.equal(algorithm("aes256")?.v1?.ikeEncr, IkeEncryptionV1.AES_CBC);
  assert.equal(algorithm("aes256")?.v1?.espTransform, EspTransformV1.AES_CBC);
  assert.equal(algorithm("aes128gcm16")?.v2?.id, EncrV2.AES_GCM_16);
  assert.equal(algorithm("chacha20poly1305")?.v2?.id, EncrV2.CHACHA20_POLY1305);
  assert.equal(algorithm("sha256")?.v2?.id, IntegV2.HMAC_SHA2_256_128);
  assert.equal(algorithm("sha256")?.v1?.ikeHash, IkeHashV1.SHA2_256);
  assert.equal(algorithm("sha256")?.v1?.espAuth, IpsecAuthV1.HMAC_SHA2_256);
  assert.equal(algorithm("prfsha256")?.v2?.id, PrfV2.HMAC_SHA2_256);
  assert.equal(algorithm("curve25519")?.v2?.id, DhGroupV2.CURVE25519);
  assert.equal(GROUP_KEYWORDS["modp3072"], 15);
  assert.equal(groupName(19), "ecp256");
  assert.equal(groupName(99), "group#99");
});

Deno.test("algorithm table: IKEv2 transforms back to keywords, key length decides AES", () => {
  assert.equal(v2Keyword(TransformTypeV2.ENCR, EncrV2.AES_CBC, 256), "aes256");
  assert.equal(v2Keyword(TransformTypeV2.ENCR, EncrV2.AES_GCM_16, 128), "aes128gcm16");
  assert.equal(v2Keyword(TransformTypeV2.INTEG, IntegV2.HMAC_SHA2_384_192), "sha384");
  assert.equal(v2Keyword(TransformTypeV2.PRF, PrfV2.HMAC_SHA2_512), "prfsha512");
  assert.equal(v2Keyword(TransformTypeV2.DH, 14), "modp2048");
  assert.equal(v2Keyword(TransformTypeV2.ENCR, 99), "encr#99");
});
