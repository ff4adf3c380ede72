/**
 * Inner-packet parsing and the selector match (RFC 4301 §4.4.1.1, §5.2), on hand-built IPv4 and
 * IPv6 packets and the RFC 7634 Appendix A source packet.
 */

import assert from "node:assert/strict";
import vector from "../../vectors/data/esp_rfc7634.json" with { type: "json" };
import { hex } from "../../vectors/backends.ts";
import {
  compileSelectors,
  matchesSelectors,
  newInnerHeader,
  parseInnerHeader,
} from "../../../src/esp/selectors.ts";
import { udp4 as udp4Packet } from "../../fakes/packets.ts";
import { parseIp } from "../../../src/net/addr.ts";
import type { TrafficSelector } from "../../../src/esp/sa_spec.ts";

const ANY_PORT = { protocol: 0, startPort: 0, endPort: 65535 };
const net = (a: string, b: string, extra = ANY_PORT): TrafficSelector => ({
  startAddress: a,
  endAddress: b,
  ...extra,
});
const header = newInnerHeader;
const udp4 = (src: string, dst: string, sport: number, dport: number, fragOffset = 0) =>
  udp4Packet(src, dst, { sport, dport, fragOffset });

function tcp6(src: string, dst: string, dport: number): Uint8Array {
  const p = new Uint8Array(60);
  p[0] = 0x60;
  p[5] = 20;
  p[6] = 6;
  p.set(parseIp(src)!, 8);
  p.set(parseIp(dst)!, 24);
  p[42] = dport >> 8;
  p[43] = dport & 0xff;
  return p;
}

Deno.test("the RFC 7634 inner ICMP packet matches its tunnel's subnets", () => {
  const pkt = hex(vector.innerPacket); // 198.51.100.5 -> 192.0.2.5, ICMP
  const h = header();
  assert.ok(parseInnerHeader(pkt, 0, pkt.length, h));
  assert.equal(h.protocol, 1);
  assert.equal(h.srcPort, -1);
  const remote = compileSelectors([net("198.51.100.0", "198.51.100.255")]);
  const local = compileSelectors([net("192.0.2.0", "192.0.2.255")]);
  assert.ok(matchesSelectors(pkt, h, remote, local));
  assert.equal(matchesSelectors(pkt, h, local, remote), false); // wrong direction
  const narrow = compileSelectors([net("198.51.100.6", "198.51.100.9")]);
  assert.equal(matchesSelectors(pkt, h, narrow, local), false);
});

Deno.test("ranges are inclusive at both ends, across byte boundaries", () => {
  const sel = compileSelectors([net("192.0.2.250", "192.0.3.4")]);
  const any = compileSelectors([net("0.0.0.0", "255.255.255.255")]);
  const h = header();
  for (
    const [addr, ok] of [
      ["192.0.2.249", false],
      ["192.0.2.250", true],
      ["192.0.2.255", true],
      [
        "192.0.3.0",
        true,
      ],
      ["192.0.3.4", true],
      ["192.0.3.5", false],
    ] as const
  ) {
    const p = udp4(addr, "203.0.113.1", 1, 2);
    assert.ok(parseInnerHeader(p, 0, p.length, h));
    assert.equal(matchesSelectors(p, h, sel, any), ok, addr);
  }
});

Deno.test("protocol and port selectors; fragments are OPAQUE and match only ANY ports", () => {
  const any = compileSelectors([net("0.0.0.0", "255.255.255.255")]);
  const dns = compileSelectors([
    net("0.0.0.0", "255.255.255.255", { protocol: 17, startPort: 53, endPort: 53 }),
  ]);
  const h = header();
  const q = udp4("192.0.2.1", "203.0.113.53", 40000, 53);
  assert.ok(parseInnerHeader(q, 0, q.length, h));
  assert.ok(matchesSelectors(q, h, any, dns));
  const other = udp4("192.0.2.1", "203.0.113.53", 40000, 54);
  assert.ok(parseInnerHeader(other, 0, other.length, h));
  assert.equal(matchesSelectors(other, h, any, dns), false);
  const frag = udp4("192.0.2.1", "203.0.113.53", 40000, 53, 100);
  assert.ok(parseInnerHeader(frag, 0, frag.length, h));
  assert.equal(h.dstPort, -1);
  assert.equal(matchesSelectors(frag, h, any, dns), false);
  assert.ok(matchesSelectors(frag, h, any, any));
});

Deno.test("IPv6 inner packets match IPv6 selectors only", () => {
  const p = tcp6("2001:db8:1::5", "2001:db8:2::9", 443);
  const h = header();
  assert.ok(parseInnerHeader(p, 0, p.length, h));
  const v6a = compileSelectors([net("2001:db8:1::", "2001:db8:1:ffff:ffff:ffff:ffff:ffff")]);
  const v6b = compileSelectors([
    net("2001:db8:2::", "2001:db8:2::ffff", { protocol: 6, startPort: 443, endPort: 443 }),
  ]);
  const v4any = compileSelectors([net("0.0.0.0", "255.255.255.255")]);
  assert.ok(matchesSelectors(p, h, v6a, v6b));
  assert.equal(matchesSelectors(p, h, v4any, v4any), false);
});

Deno.test("malformed inner packets are refused, never thrown", () => {
  const h = header();
  const good = udp4("192.0.2.1", "192.0.2.2", 1, 2);
  assert.equal(parseInnerHeader(good, 0, 19, h), false); // short
  const badVersion = good.slice();
  badVersion[0] = 0x55;
  assert.equal(parseInnerHeader(badVersion, 0, badVersion.length, h), false);
  const badIhl = good.slice();
  badIhl[0] = 0x44;
  assert.equal(parseInnerHeader(badIhl, 0, badIhl.length, h), false);
  const tooLong = good.slice();
  tooLong[3] = 200; // total length beyond the data
  assert.equal(parseInnerHeader(tooLong, 0, tooLong.length, h), false);
  const v6 = tcp6("::1", "::2", 1);
  v6[5] = 200;
  assert.equal(parseInnerHeader(v6, 0, v6.length, h), false);
  assert.equal(parseInnerHeader(good, 20, good.length, h), false); // past the buffer
  assert.throws(() => compileSelectors([net("192.0.2.1", "2001:db8::1")]), /bad traffic selector/);
});
