/**
 * Address parsing and formatting, checked against node:net's own parser and RFC 5952 examples.
 */

import assert from "node:assert/strict";
import { isIP } from "node:net";
import { compareBytes, formatIp, parseIp, parseRange } from "../../../src/net/addr.ts";

Deno.test("IPv4 and IPv6 text forms parse and format canonically", () => {
  assert.deepEqual([...parseIp("192.0.2.1")!], [192, 0, 2, 1]);
  const cases: [string, string][] = [
    ["2001:db8::1", "2001:db8::1"],
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // first of two equal runs (RFC 5952 §4.2.3)
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group stays (§4.2.2)
    ["::ffff:192.0.2.1", "::ffff:c000:201"],
    ["64:ff9b::198.51.100.7", "64:ff9b::c633:6407"],
  ];
  for (const [text, canon] of cases) {
    const b = parseIp(text);
    assert.ok(b, text);
    assert.equal(b.length, 16);
    assert.equal(formatIp(b), canon, text);
  }
});

Deno.test("bad addresses are undefined, agreeing with node:net", () => {
  const bad = [
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.1",
    "01.2.3.4",
    "1.2.3.-4",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7::8",
    "12345::1",
    "g::1",
    "::1.2.3",
    "hq.example",
  ];
  for (const t of bad) {
    assert.equal(parseIp(t), undefined, t);
    if (t !== "1:2:3:4:5:6:7::8") assert.equal(isIP(t), 0, `node agrees on ${t}`);
  }
  for (const t of ["1:2:3:4:5:6:7:8", "::1:2:3:4:5:6:7", "fe80::1", "0.0.0.0", "255.255.255.255"]) {
    assert.notEqual(isIP(t), 0);
    assert.ok(parseIp(t), t);
  }
});

Deno.test("prefixes and ranges become inclusive byte ranges", () => {
  const r = parseRange("198.51.100.0/24")!;
  assert.equal(formatIp(r.start), "198.51.100.0");
  assert.equal(formatIp(r.end), "198.51.100.255");
  const h = parseRange("203.0.113.9")!;
  assert.equal(formatIp(h.start), "203.0.113.9");
  assert.equal(formatIp(h.end), "203.0.113.9");
  const v6 = parseRange("2001:db8:1::/48")!;
  assert.equal(formatIp(v6.end), "2001:db8:1:ffff:ffff:ffff:ffff:ffff");
  const odd = parseRange("192.0.2.0/27")!;
  assert.equal(formatIp(odd.end), "192.0.2.31");
  const span = parseRange("192.0.2.10-192.0.2.20")!;
  assert.equal(formatIp(span.end), "192.0.2.20");
  for (
    const t of [
      "192.0.2.0/33",
      "192.0.2.0/",
      "192.0.2.0/x",
      "192.0.2.20-192.0.2.10",
      "192.0.2.1-::1",
    ]
  ) {
    assert.equal(parseRange(t), undefined, t);
  }
  assert.ok(compareBytes(parseIp("192.0.2.1")!, parseIp("192.0.2.2")!) < 0);
});
