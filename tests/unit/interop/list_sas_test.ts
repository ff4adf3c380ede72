/** Parser of `swanctl --list-sas --pretty` against a captured strongSwan 5.9.8 pair. */

import assert from "node:assert/strict";
import { ListSasParseError, parseListSas } from "../../interop/lib/list_sas.ts";

const capture = JSON.parse(
  await Deno.readTextFile(new URL("../../vectors/interop/list_sas_pretty.json", import.meta.url)),
) as { initiator: string; responder: string };

Deno.test("list-sas: both sides of a captured IKEv1 SA with a PFS CHILD_SA", () => {
  const [i] = parseListSas(capture.initiator);
  const [r] = parseListSas(capture.responder);
  assert.ok(i && r);
  assert.equal(i.name, "site");
  assert.equal(i.version, 1);
  assert.equal(i.state, "ESTABLISHED");
  assert.equal(i.initiator, true);
  assert.equal(r.initiator, false);
  assert.equal(i.initiatorSpi, r.initiatorSpi);
  assert.equal(r.initiatorSpi, "2526d6a16cbf7a3f");
  assert.equal(r.responderSpi, "e5605a3ced03d08a");
  assert.deepEqual(
    [r.encrAlg, r.encrKeysize, r.integAlg, r.prfAlg, r.dhGroup],
    ["AES_CBC", 128, "HMAC_SHA1_96", "PRF_HMAC_SHA1", "ECP_256"],
  );
  assert.deepEqual([r.localHost, r.localPort, r.remoteHost], ["192.0.2.2", 4500, "192.0.2.1"]);
  const [ci] = i.children;
  const [cr] = r.children;
  assert.ok(ci && cr);
  assert.equal(cr.spiIn, 0x116d1fc3);
  assert.equal(cr.spiOut, 0x4864c6a1);
  assert.equal(ci.spiIn, cr.spiOut);
  assert.equal(ci.spiOut, cr.spiIn);
  assert.deepEqual(
    [cr.encrAlg, cr.encrKeysize, cr.integAlg, cr.dhGroup, cr.encap, cr.mode],
    ["AES_CBC", 128, "HMAC_SHA2_256_128", "MODP_2048", true, "TUNNEL"],
  );
  assert.deepEqual([cr.packetsIn, cr.bytesIn, cr.packetsOut], [2, 168, 2]);
  assert.deepEqual(cr.localTs, ["203.0.113.0/24"]);
  assert.deepEqual(cr.remoteTs, ["198.51.100.0/24"]);
});

Deno.test("list-sas: no SAs is an empty list", () => {
  assert.deepEqual(parseListSas("list-sas reply {\n}\n"), []);
  assert.deepEqual(parseListSas(""), []);
});

Deno.test("list-sas: malformed output is a typed error naming the line", () => {
  const cases = [
    "list-sa event {\n  x {\n",
    "}\n",
    "list-sa event {\n  what is this\n}\n",
    "list-sa event {\n  x {\n    local-ts = [\n      1.2.3.0/24\n",
    // A section without the fields every IKE SA has.
    "list-sa event {\n  x {\n    state = ESTABLISHED\n  }\n}\n",
  ];
  for (const text of cases) {
    assert.throws(() => parseListSas(text), ListSasParseError, JSON.stringify(text));
  }
  const truncated = capture.responder.split("\n").slice(0, 20).join("\n");
  assert.throws(() => parseListSas(truncated), ListSasParseError);
});
