import assert from "node:assert/strict";
import {
  configSelector,
  formatSelector,
  intersect,
  isTsError,
} from "../../../../src/ike/child/ts.ts";
import { idToSelector, narrowV1 as narrow, selectorToId } from "../../../../src/ike/v1/ts_id.ts";
import { IdTypeV1 } from "../../../../src/ike/message/v1/registry.ts";
import type { IdPayloadV1 } from "../../../../src/ike/message/v1/types.ts";
import type { TrafficSelector } from "../../../../src/esp/sa_spec.ts";

const id = (idType: number, data: number[], protocol = 0, port = 0): IdPayloadV1 => ({
  kind: "id",
  idType,
  protocol,
  port,
  data: Uint8Array.from(data),
});

const sel = (
  startAddress: string,
  endAddress: string,
  protocol = 0,
  startPort = 0,
  endPort = 65535,
): TrafficSelector => ({ startAddress, endAddress, protocol, startPort, endPort });

const v6 = (groups: number[]): number[] => groups.flatMap((g) => [g >> 8, g & 0xff]);

Deno.test("ID payloads become selectors: IPv4 address, subnet, range; IPv6 forms", () => {
  assert.deepEqual(
    idToSelector(id(IdTypeV1.IPV4_ADDR, [192, 0, 2, 7])),
    sel("192.0.2.7", "192.0.2.7"),
  );
  assert.deepEqual(
    idToSelector(id(IdTypeV1.IPV4_ADDR_SUBNET, [198, 51, 100, 9, 255, 255, 255, 0], 17, 53)),
    sel("198.51.100.0", "198.51.100.255", 17, 53, 53),
  );
  assert.deepEqual(
    idToSelector(id(IdTypeV1.IPV4_ADDR_RANGE, [203, 0, 113, 10, 203, 0, 113, 20])),
    sel("203.0.113.10", "203.0.113.20"),
  );
  const net = v6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 0]);
  const mask = v6([0xffff, 0xffff, 0xffff, 0xffff, 0, 0, 0, 0]);
  assert.deepEqual(
    idToSelector(id(IdTypeV1.IPV6_ADDR_SUBNET, [...net, ...mask])),
    sel("2001:db8:1::", "2001:db8:1:0:ffff:ffff:ffff:ffff"),
  );
  assert.deepEqual(
    idToSelector(id(IdTypeV1.IPV6_ADDR, v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]))),
    sel("2001:db8::1", "2001:db8::1"),
  );
  const a = v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 5]);
  const b = v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x99]);
  assert.deepEqual(
    idToSelector(id(IdTypeV1.IPV6_ADDR_RANGE, [...a, ...b])),
    sel("2001:db8::5", "2001:db8::99"),
  );
});

Deno.test("bad ID payloads are typed errors", () => {
  const cases: IdPayloadV1[] = [
    id(IdTypeV1.IPV4_ADDR, [192, 0, 2]),
    id(IdTypeV1.IPV4_ADDR_SUBNET, [192, 0, 2, 0, 255, 0, 255, 0]),
    id(IdTypeV1.IPV4_ADDR_RANGE, [192, 0, 2, 9, 192, 0, 2, 1]),
    id(IdTypeV1.IPV6_ADDR, [1, 2, 3, 4]),
    id(IdTypeV1.FQDN, [0x61]),
  ];
  for (const c of cases) assert.ok(isTsError(idToSelector(c)), JSON.stringify(c.idType));
});

Deno.test("selectors become the tightest ID type and round-trip", () => {
  const host = selectorToId(sel("192.0.2.1", "192.0.2.1"));
  assert.ok(!isTsError(host));
  assert.equal(host.idType, IdTypeV1.IPV4_ADDR);
  const subnet = selectorToId(sel("198.51.100.0", "198.51.100.255", 6, 443, 443));
  assert.ok(!isTsError(subnet));
  assert.equal(subnet.idType, IdTypeV1.IPV4_ADDR_SUBNET);
  assert.deepEqual([...subnet.data], [198, 51, 100, 0, 255, 255, 255, 0]);
  assert.equal(subnet.port, 443);
  assert.equal(subnet.protocol, 6);
  const range = selectorToId(sel("203.0.113.3", "203.0.113.17"));
  assert.ok(!isTsError(range));
  assert.equal(range.idType, IdTypeV1.IPV4_ADDR_RANGE);
  const six = selectorToId(sel("2001:db8::", "2001:db8::ff"));
  assert.ok(!isTsError(six));
  assert.equal(six.idType, IdTypeV1.IPV6_ADDR_SUBNET);
  for (const x of [host, subnet, range, six]) {
    const back = idToSelector(x);
    assert.ok(!isTsError(back));
    assert.deepEqual(selectorToId(back), x);
  }
  assert.ok(isTsError(selectorToId(sel("192.0.2.1", "192.0.2.1", 6, 1000, 2000))));
});

Deno.test("intersection and narrowing to configured selectors", () => {
  const cfg = [configSelector("10.1.0.0/16"), configSelector("2001:db8:1::/48")];
  assert.ok(!cfg.some(isTsError));
  const configured = cfg as TrafficSelector[];
  // Inside: kept as proposed.
  const inside = sel("10.1.2.0", "10.1.2.255", 17, 53, 53);
  assert.deepEqual(narrow(inside, configured), inside);
  // Wider: narrowed to ours.
  assert.deepEqual(narrow(sel("10.0.0.0", "10.255.255.255"), configured), configured[0]);
  // Partial overlap: the common range.
  assert.deepEqual(
    narrow(sel("10.0.255.0", "10.1.0.127"), configured),
    sel("10.1.0.0", "10.1.0.127"),
  );
  // IPv6 against the IPv6 entry only.
  assert.deepEqual(
    narrow(sel("2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), configured),
    configured[1],
  );
  // Disjoint and other family: nothing.
  assert.equal(narrow(sel("192.0.2.0", "192.0.2.255"), configured), undefined);
  assert.equal(
    intersect(sel("10.1.0.1", "10.1.0.1", 6), sel("10.1.0.1", "10.1.0.1", 17)),
    undefined,
  );
  assert.equal(
    intersect(sel("10.1.0.1", "10.1.0.1", 6, 80, 80), sel("10.1.0.1", "10.1.0.1", 6, 81, 90)),
    undefined,
  );
});

Deno.test("selectors print as operators write them", () => {
  assert.equal(formatSelector(sel("198.51.100.0", "198.51.100.255")), "198.51.100.0/24");
  assert.equal(formatSelector(sel("192.0.2.1", "192.0.2.1")), "192.0.2.1/32");
  assert.equal(formatSelector(sel("192.0.2.3", "192.0.2.9")), "192.0.2.3-192.0.2.9");
  assert.equal(formatSelector(sel("192.0.2.1", "192.0.2.1", 6, 443, 443)), "192.0.2.1/32[6/443]");
  assert.equal(formatSelector(sel("2001:db8::", "2001:db8::ff", 17)), "2001:db8::/120[17]");
});
