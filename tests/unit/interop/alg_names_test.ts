/** strongSwan algorithm names in keyword syntax, and ping summaries, for the interop suite. */

import assert from "node:assert/strict";
import {
  encrKeyword,
  espTransform,
  ikeProposal,
  pfsGroup,
  UnknownAlgorithmError,
} from "../../interop/lib/alg_names.ts";
import { parseListSas } from "../../interop/lib/list_sas.ts";
import { parsePing } from "../../interop/lib/traffic.ts";

const capture = JSON.parse(
  await Deno.readTextFile(new URL("../../vectors/interop/list_sas_pretty.json", import.meta.url)),
) as { responder: string };

Deno.test("alg names: a captured SA reads as the proposal strings it was configured with", () => {
  const [ike] = parseListSas(capture.responder);
  assert.ok(ike);
  assert.equal(ikeProposal(ike), "aes128-sha1-ecp256");
  const [child] = ike.children;
  assert.ok(child);
  assert.equal(espTransform(child), "aes128-sha256");
  assert.equal(pfsGroup(child), "modp2048");
});

Deno.test("alg names: AEAD and key sizes; unknown names are typed errors", () => {
  assert.equal(encrKeyword("AES_GCM_16", 256), "aes256gcm16");
  assert.equal(encrKeyword("AES_CBC", 128), "aes128");
  assert.equal(encrKeyword("CHACHA20_POLY1305", 256), "chacha20poly1305");
  assert.throws(() => encrKeyword("CAMELLIA_CBC", 128), UnknownAlgorithmError);
  const [ike] = parseListSas(capture.responder);
  assert.throws(() => ikeProposal({ ...ike!, dhGroup: "MODP_CUSTOM" }), UnknownAlgorithmError);
});

Deno.test("ping summary: counts, and nothing counted from other text", () => {
  const out = "--- 203.0.113.10 ping statistics ---\n" +
    "412 packets transmitted, 411 received, 0.242718% packet loss, time 8302ms\n";
  assert.deepEqual(
    [parsePing(out).sent, parsePing(out).received],
    [412, 411],
  );
  assert.deepEqual([parsePing("connect: Network is unreachable").sent], [0]);
});
