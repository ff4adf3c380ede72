/**
 * IKEv2 IKE_AUTH with pre-shared keys against the engine (RFC 7296 §1.2, §2.9, §2.15, §2.17,
 * §3.5, §3.13): both AUTH values, ESP keys exactly as KEYMAT gives them, identities of every
 * type, the PSK chosen by the peer's identity (`remote = "%any"` + `remote_id`), traffic
 * selector narrowing and TS_UNACCEPTABLE, INITIAL_CONTACT, views.
 */

import assert from "node:assert/strict";
import { IdType, Nt, Pt } from "./initiator_v2/consts.ts";
import {
  BRANCH,
  events,
  GW,
  PSK,
  spiHex,
  spiNum,
  v2Policy,
  V2Setup,
} from "./initiator_v2/harness.ts";
import type { Child, Identity } from "./initiator_v2/initiator.ts";
import { cat, cidr4, hex, ip4, parseTs, tsText } from "./initiator_v2/wire.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** DER TLV with a short or one/two-octet long length (X.690 §8.1.3). */
function tlv(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  const len = n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return cat(Uint8Array.of(tag, ...len), body);
}

/** OIDs of the name attributes used here (X.520). */
const ATTR: Record<string, number[]> = {
  C: [0x55, 0x04, 0x06],
  O: [0x55, 0x04, 0x0a],
  OU: [0x55, 0x04, 0x0b],
  CN: [0x55, 0x04, 0x03],
};

/** DER of a Name (RFC 5280 §4.1.2.4), each value as `tag` (0x13 PrintableString, 0x0c UTF8). */
function dn(rdns: readonly [string, string][], tag = 0x13): Uint8Array {
  return tlv(
    0x30,
    cat(
      ...rdns.map(([t, v]) =>
        tlv(0x31, tlv(0x30, cat(tlv(0x06, Uint8Array.from(ATTR[t]!)), tlv(tag, text(v)))))
      ),
    ),
  );
}

/** The two installs of `child` carry the KEYMAT of §2.17 for the right directions. */
function assertKeys(s: V2Setup, child: Child, from = 0): void {
  const inst = s.installs(from);
  const inbound = inst.find((a) =>
    a.spec.direction === "in" && a.spec.spi === spiNum(child.outSpi)
  );
  const outbound = inst.find((a) =>
    a.spec.direction === "out" && a.spec.spi === spiNum(child.inSpi)
  );
  assert.ok(inbound !== undefined, `inbound SA ${hex(child.outSpi)} installed`);
  assert.ok(outbound !== undefined, `outbound SA ${hex(child.inSpi)} installed`);
  // Responder inbound = initiator→responder keys (first in KEYMAT).
  assert.equal(hex(inbound.spec.keyMaterial), hex(cat(child.keys.ei, child.keys.ai)));
  assert.equal(hex(outbound.spec.keyMaterial), hex(cat(child.keys.er, child.keys.ar)));
  assert.equal(inbound.spec.endpoints.local, GW.address);
  assert.equal(inbound.spec.endpoints.remote, BRANCH.address);
}

Deno.test("IKE_AUTH (PSK): both AUTH values verify, the CHILD_SA is installed with KEYMAT keys", () => {
  const s = new V2Setup();
  const r = s.establish(); // readAuth throws unless the responder's AUTH is right (§2.15)
  assert.deepEqual(r.errors, []);
  assert.equal(s.i.children.length, 1);
  const c = s.i.children[0]!;
  assertKeys(s, c);
  assert.deepEqual(c.tsi.map(tsText), ["10.2.0.0-10.2.255.255"]);
  assert.deepEqual(c.tsr.map(tsText), ["10.1.0.0-10.1.255.255"]);
  const idr = r.first(Pt.IDr)!;
  assert.equal(idr.body[0], IdType.IPV4_ADDR, "IDr defaults to our address");
  assert.equal(hex(idr.body.subarray(4)), hex(ip4(GW.address)));
  const ike = s.r.ikeSas(s.now);
  assert.equal(ike.length, 1);
  assert.equal(ike[0]!.state, "ESTABLISHED");
  assert.equal(ike[0]!.version, 2);
  assert.equal(ike[0]!.peer, "branch1");
  assert.match(ike[0]!.spis, new RegExp(`${hex(s.i.spiI)}.*${hex(s.i.sa!.spiR)}`, "i"));
  const child = s.r.childSas(s.now);
  assert.equal(child.length, 1);
  assert.equal(spiHex(child[0]!.inboundSpi), hex(c.outSpi));
  assert.equal(spiHex(child[0]!.outboundSpi), hex(c.inSpi));
  assert.equal(child[0]!.transform, "aes128gcm16");
  assert.equal(child[0]!.pfsGroup, 0);
  assert.equal(s.r.peerStates(s.now).find((p) => p.name === "branch1")?.state, "up");
});

Deno.test("IKE_AUTH: AES-CBC/HMAC-SHA-256 for IKE and ESP; keys in encryption|integrity order", () => {
  const s = new V2Setup(
    v2Policy({ ike_proposals: ["aes256-sha256-modp3072"], esp_proposals: ["aes256-sha256"] }),
    { ike: ["aes256-sha256-modp3072"], esp: ["aes256-sha256"] },
  );
  s.establish();
  const c = s.i.children[0]!;
  assert.equal(c.keys.ai.length, 32);
  assertKeys(s, c);
  assert.equal(s.r.childSas(s.now)[0]!.transform, "aes256-sha256");
});

Deno.test("IKE_AUTH: a wrong PSK gets AUTHENTICATION_FAILED, nothing installed, no secret logged", () => {
  const s = new V2Setup();
  s.init();
  const r = s.answer(s.i.auth({ psk: "not the key" }), (d) => s.i.readAuth(d));
  assert.deepEqual(r.errors, [Nt.AUTHENTICATION_FAILED]);
  assert.equal(r.first(Pt.AUTH), undefined);
  assert.equal(s.installs().length, 0);
  assert.equal(s.r.ikeSas(s.now).filter((v) => v.state === "ESTABLISHED").length, 0);
  const log = JSON.stringify(events(s.log));
  assert.match(log, /auth|PSK|pre-shared/i);
  assert.ok(!log.includes(PSK) && !log.includes("not the key"), "no key in the log");
});

const IDS: { name: string; config: string; id: Identity }[] = [
  {
    name: "ID_IPV4_ADDR",
    config: "192.0.2.2",
    id: { type: IdType.IPV4_ADDR, data: ip4("192.0.2.2") },
  },
  {
    name: "ID_IPV6_ADDR",
    config: "2001:db8::2",
    id: {
      type: IdType.IPV6_ADDR,
      data: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]),
    },
  },
  {
    name: "ID_FQDN",
    config: "branch.example.net",
    id: { type: IdType.FQDN, data: text("branch.example.net") },
  },
  {
    name: "ID_RFC822_ADDR",
    config: "ops@example.net",
    id: { type: IdType.RFC822_ADDR, data: text("ops@example.net") },
  },
  {
    name: "ID_KEY_ID",
    config: "keyid:branch-key-1",
    id: { type: IdType.KEY_ID, data: text("branch-key-1") },
  },
  {
    name: "ID_DER_ASN1_DN",
    config: "C=CH, O=Example Branches, CN=branch1.example.net",
    id: {
      type: IdType.DER_ASN1_DN,
      data: dn([["C", "CH"], ["O", "Example Branches"], ["CN", "branch1.example.net"]]),
    },
  },
];

for (const { name, config, id } of IDS) {
  Deno.test(`IKE_AUTH: identity ${name} matches remote_id "${config}"`, () => {
    const s = new V2Setup(v2Policy({ remote_id: config }), { id });
    const r = s.establish();
    assert.deepEqual(r.errors, []);
    assert.equal(s.installs().length, 2);
    // The same identity of another type or value is refused.
    const other = new V2Setup(v2Policy({ remote_id: config }), {
      id: { type: IdType.FQDN, data: text("someone.else.example") },
    });
    other.init();
    const bad = other.answer(other.i.auth(), (d) => other.i.readAuth(d));
    assert.deepEqual(bad.errors, [Nt.AUTHENTICATION_FAILED], `${name}: a wrong IDi`);
    assert.equal(other.installs().length, 0);
  });
}

Deno.test("IKE_AUTH with PSK: ID_DER_ASN1_DN matched as a name (string types, '*', order), our DN IDr", () => {
  const id = (cn: string, tag = 0x13) => ({
    type: IdType.DER_ASN1_DN,
    data: dn([["C", "CH"], ["O", "Example"], ["OU", "Branches"], ["CN", cn]], tag),
  });
  const ok = (remoteId: string, ident: Identity) => {
    const s = new V2Setup(v2Policy({ remote_id: remoteId, local_id: "C=CH, O=Example, CN=gw" }), {
      id: ident,
    });
    s.init();
    const r = s.answer(s.i.auth(), (d) => s.i.readAuth(d));
    return { s, r };
  };
  // UTF8String values, spaces and case differ from the config text: still the same name.
  const a = ok("c=CH,  O=example, OU=Branches, CN=Branch7", id("branch7", 0x0c));
  assert.deepEqual(a.r.errors, []);
  assert.equal(a.s.installs().length, 2);
  // Our IDr: the DER of local_id (readAuth verified the AUTH over it, §2.15).
  const idr = a.r.first(Pt.IDr)!;
  assert.equal(idr.body[0], IdType.DER_ASN1_DN);
  assert.equal(
    hex(idr.body.subarray(4)),
    hex(cat(
      Uint8Array.of(0x30, 0x2c),
      tlv(0x31, tlv(0x30, cat(tlv(0x06, Uint8Array.of(0x55, 4, 6)), tlv(0x13, text("CH"))))),
      tlv(0x31, tlv(0x30, cat(tlv(0x06, Uint8Array.of(0x55, 4, 10)), tlv(0x0c, text("Example"))))),
      tlv(0x31, tlv(0x30, cat(tlv(0x06, Uint8Array.of(0x55, 4, 3)), tlv(0x0c, text("gw"))))),
    )),
  );
  const up = events(a.s.log).find((e) => e.message === "IKE SA established (IKEv2)");
  assert.equal(up?.fields.id, "C=CH, O=Example, OU=Branches, CN=branch7", "the DN in the log");
  // '*' matches one whole attribute value.
  assert.deepEqual(ok("C=CH, O=Example, OU=Branches, CN=*", id("branch9")).r.errors, []);
  // Another CN, another order, a missing attribute, the DN text as an FQDN: refused.
  const refused: [string, Identity][] = [
    ["C=CH, O=Example, OU=Branches, CN=branch7", id("branch8")],
    ["O=Example, C=CH, OU=Branches, CN=branch7", id("branch7")],
    ["C=CH, O=Example, CN=branch7", id("branch7")],
    ["C=CH, O=Example, OU=Branches, CN=branch7", {
      type: IdType.FQDN,
      data: text("C=CH, O=Example, OU=Branches, CN=branch7"),
    }],
    ["C=CH, O=Example, OU=Branches, CN=branch7", {
      type: IdType.DER_ASN1_DN,
      data: Uint8Array.of(0x30, 0x05, 0x31, 0x03, 0x30),
    }],
  ];
  for (const [remoteId, ident] of refused) {
    const b = ok(remoteId, ident);
    assert.deepEqual(b.r.errors, [Nt.AUTHENTICATION_FAILED], `${remoteId}`);
    assert.equal(b.s.installs().length, 0);
  }
});

Deno.test("IKE_AUTH: our IDr is local_id when set (ID_FQDN)", () => {
  const s = new V2Setup(v2Policy({ local_id: "gw.example.net" }));
  const r = s.establish();
  const idr = r.first(Pt.IDr)!;
  assert.equal(idr.body[0], IdType.FQDN);
  assert.equal(new TextDecoder().decode(idr.body.subarray(4)), "gw.example.net");
});

Deno.test("IKE_AUTH: with remote = %any the PSK is chosen by IDi (remote_id)", () => {
  const peers = (key2: string) =>
    v2Policy({
      name: "alpha",
      remote: "%any",
      remote_id: "alpha.example.net",
      psk: "alpha key 123",
    }, [{
      name: "beta",
      remote: "%any",
      remote_id: "beta.example.net",
      psk: key2,
      ike_version: 2,
      ike_proposals: ["aes128gcm16-prfsha256-ecp256"],
      esp_proposals: ["aes128gcm16"],
      local_ts: ["10.1.0.0/16"],
      remote_ts: ["10.2.0.0/16"],
    }]);
  const beta = { type: IdType.FQDN, data: text("beta.example.net") };
  const s = new V2Setup(peers("beta key 456"), { psk: "beta key 456", id: beta });
  assert.deepEqual(s.establish().errors, []);
  assert.equal(s.r.ikeSas(s.now)[0]!.peer, "beta");
  // Beta's identity with alpha's key fails.
  const t = new V2Setup(peers("beta key 456"), { psk: "alpha key 123", id: beta });
  t.init();
  assert.deepEqual(t.answer(t.i.auth(), (d) => t.i.readAuth(d)).errors, [Nt.AUTHENTICATION_FAILED]);
  // An identity no peer names fails too.
  const u = new V2Setup(peers("beta key 456"), {
    psk: "beta key 456",
    id: { type: IdType.FQDN, data: text("gamma.example.net") },
  });
  u.init();
  assert.deepEqual(u.answer(u.i.auth(), (d) => u.i.readAuth(d)).errors, [Nt.AUTHENTICATION_FAILED]);
});

Deno.test("IKE_AUTH: traffic selectors are narrowed to the config (§2.9)", () => {
  const s = new V2Setup(v2Policy(), {
    tsi: [cidr4("10.0.0.0/8")],
    tsr: [cidr4("0.0.0.0/0")],
  });
  const r = s.establish();
  assert.deepEqual(r.errors, []);
  assert.deepEqual(parseTs(r.first(Pt.TSi)!.body).map(tsText), ["10.2.0.0-10.2.255.255"]);
  assert.deepEqual(parseTs(r.first(Pt.TSr)!.body).map(tsText), ["10.1.0.0-10.1.255.255"]);
  // A subset with a protocol and port stays as asked.
  const sub = new V2Setup(v2Policy(), {
    tsi: [cidr4("10.2.5.0/24", 6, [0, 65535])],
    tsr: [cidr4("10.1.1.1/32", 6, [443, 443])],
  });
  const q = sub.establish();
  assert.deepEqual(parseTs(q.first(Pt.TSi)!.body).map(tsText), ["10.2.5.0-10.2.5.255[6/0-65535]"]);
  assert.deepEqual(parseTs(q.first(Pt.TSr)!.body).map(tsText), ["10.1.1.1-10.1.1.1[6/443-443]"]);
  const inbound = sub.installs().find((a) => a.spec.direction === "in")!;
  assert.deepEqual(inbound.spec.localSelectors, [{
    startAddress: "10.1.1.1",
    endAddress: "10.1.1.1",
    protocol: 6,
    startPort: 443,
    endPort: 443,
  }]);
});

Deno.test("IKE_AUTH: disjoint selectors get TS_UNACCEPTABLE; the IKE SA still comes up (§1.2)", () => {
  const s = new V2Setup(v2Policy(), { tsi: [cidr4("172.16.0.0/12")] });
  const r = s.establish();
  assert.deepEqual(r.errors, [Nt.TS_UNACCEPTABLE]);
  assert.ok(r.first(Pt.AUTH) !== undefined, "AUTH still sent (and verified)");
  assert.equal(r.first(Pt.SA), undefined);
  assert.equal(s.installs().length, 0);
  assert.equal(s.r.ikeSas(s.now).filter((v) => v.state === "ESTABLISHED").length, 1);
  // A CHILD_SA with acceptable selectors can follow on the same IKE SA.
  const c = s.answer(
    s.i.createChild({ tsi: [cidr4("10.2.0.0/16")] }),
    (d) => s.i.readCreateChild(d),
  );
  assert.deepEqual(c.errors, []);
  assert.equal(s.installs().length, 2);
});

Deno.test("IKE_AUTH: INITIAL_CONTACT removes the peer's older IKE SA and its CHILD_SAs", () => {
  const s = new V2Setup();
  s.establish();
  const old = s.i.children[0]!;
  // The branch rebooted: a new initiator, same identity and address.
  const t = new V2Setup(v2Policy(), {}, s.r);
  t.now = s.now + 1000;
  const mark = s.log.length;
  t.init();
  t.answer(t.i.auth({ initialContact: true }), (d) => t.i.readAuth(d));
  const all = [...s.log.slice(mark), ...t.log];
  const deleted = all.filter((a) => a.kind === "deleteSa").map((a) =>
    a.kind === "deleteSa" ? a.spi : 0
  );
  assert.ok(deleted.includes(spiNum(old.outSpi)), "old inbound SA removed");
  assert.ok(deleted.includes(spiNum(old.inSpi)), "old outbound SA removed");
  const sas = s.r.ikeSas(t.now).filter((v) => v.state === "ESTABLISHED");
  assert.equal(sas.length, 1);
  assert.match(sas[0]!.spis, new RegExp(hex(t.i.spiI), "i"));
  assert.equal(s.r.childSas(t.now).length, 1);
});

Deno.test("IKE_AUTH: a request without AUTH (or without IDi) is refused with an error, nothing set up", () => {
  for (const drop of [Pt.AUTH, Pt.IDi]) {
    const s = new V2Setup();
    s.init();
    const payloads = s.i.authPayloads().filter((p) => p.type !== drop);
    const r = s.answer(s.i.request(35, payloads), (d) => s.i.readResponse(d));
    assert.equal(r.errors.length, 1, `dropping ${drop}: ${r.types}`);
    const allowed: number[] = [Nt.INVALID_SYNTAX, Nt.AUTHENTICATION_FAILED];
    assert.ok(
      allowed.includes(r.errors[0]!),
      `dropping ${drop}: error ${r.errors[0]}`,
    );
    assert.equal(r.first(Pt.AUTH), undefined);
    assert.equal(s.installs().length, 0);
    assert.equal(s.r.ikeSas(s.now).filter((v) => v.state === "ESTABLISHED").length, 0);
  }
});
