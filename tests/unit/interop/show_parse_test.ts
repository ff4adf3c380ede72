/** The suite reads back exactly what branchgate's `show` tables print. */

import assert from "node:assert/strict";
import { espTable, ikeTable } from "../../../src/shell/views.ts";
import type { EspSaView, IkeSaView } from "../../../src/shell/host.ts";
import { parseShowEspSa, parseShowIkeSa, ShowParseError } from "../../interop/lib/show_parse.ts";

const ike: IkeSaView[] = [
  {
    peer: "hq",
    version: 1,
    state: "ESTABLISHED",
    local: "192.0.2.1:4500",
    remote: "192.0.2.2:4500",
    spis: "2526d6a16cbf7a3f_i e5605a3ced03d08a_r",
    algorithms: "aes256-sha256-modp2048",
    ageSeconds: 5,
    expiresSeconds: 14000,
  },
  {
    peer: "office-ag",
    version: 2,
    state: "AM_SENT",
    local: "192.0.2.1:500",
    remote: "192.0.2.3:500",
    spis: "00112233445566ff 0000000000000001",
    algorithms: "",
    ageSeconds: 0,
  },
];

const esp: EspSaView[] = [
  {
    peer: "hq",
    direction: "in",
    spi: 0xc1234567,
    transform: "aes128-sha256",
    localTs: "198.51.100.0/24",
    remoteTs: "203.0.113.0/24",
    encap: true,
    packets: 7,
    bytes: 588,
    replayDrops: 0,
    icvFailures: 0,
    policyDrops: 0,
    ageSeconds: 3,
  },
  {
    peer: "hq",
    direction: "out",
    spi: 0x0000abcd,
    transform: "aes256gcm16",
    localTs: "198.51.100.0/24",
    remoteTs: "203.0.113.0/24",
    encap: false,
    packets: 12,
    bytes: 1000,
    replayDrops: 0,
    icvFailures: 0,
    policyDrops: 0,
    ageSeconds: 3,
  },
];

Deno.test("show parse: ike sa table round trip", () => {
  const got = parseShowIkeSa(ikeTable(ike).join("\n"));
  assert.deepEqual(got, [
    {
      peer: "hq",
      state: "ESTABLISHED",
      initiatorSpi: "2526d6a16cbf7a3f",
      responderSpi: "e5605a3ced03d08a",
      proposal: "aes256-sha256-modp2048",
    },
    {
      peer: "office-ag",
      state: "AM_SENT",
      initiatorSpi: "00112233445566ff",
      responderSpi: "0000000000000001",
      proposal: "",
    },
  ]);
  assert.deepEqual(parseShowIkeSa(ikeTable([]).join("\n")), []);
});

Deno.test("show parse: esp sa table round trip", () => {
  const got = parseShowEspSa(espTable(esp).join("\n"));
  assert.deepEqual(got, [
    { peer: "hq", direction: "in", spi: 0xc1234567, transform: "aes128-sha256", packets: 7 },
    { peer: "hq", direction: "out", spi: 0xabcd, transform: "aes256gcm16", packets: 12 },
  ]);
  assert.deepEqual(parseShowEspSa(espTable([]).join("\n")), []);
});

Deno.test("show parse: other text is a typed error", () => {
  assert.throws(() => parseShowIkeSa("error: not connected"), ShowParseError);
  assert.throws(() => parseShowEspSa("hq: in spi zz"), ShowParseError);
  const cut = ikeTable(ike).slice(0, 2).join("\n");
  assert.throws(() => parseShowIkeSa(cut), ShowParseError);
});
