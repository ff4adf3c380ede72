/**
 * The scripted IKEv2 test initiator (tests/exchange/initiator_v2/) against strongSwan 5.9.8's
 * charon as the responder: proof that the initiator the IKEv2 exchange tests rely on speaks
 * real IKEv2. One lab, one charon; the test process drives the initiator through a UDP relay in
 * the namespace. Covers INVALID_KE_PAYLOAD, NAT detection, IKE_AUTH with a PSK sent in RFC 7383
 * fragments and a fragmented response, SPIs and algorithms as `swanctl --list-sas` shows them,
 * CREATE_CHILD_SA (new child, rekey with and without PFS, IKE SA rekeys to AES-CBC/MODP-3072
 * and ChaCha20-Poly1305/Curve25519), liveness, Deletes; and answering charon's own requests: its
 * CHILD_SA rekey with PFS, its Delete of the old CHILD_SA, its liveness checks.
 */

import assert from "node:assert/strict";
import { Exchange, IdType, Nt, Pt } from "../exchange/initiator_v2/consts.ts";
import { type Child, type Received, V2Initiator } from "../exchange/initiator_v2/initiator.ts";
import { cidr4, hex, type Selector, tsText } from "../exchange/initiator_v2/wire.ts";
import { type IkeSaInfo } from "./lib/list_sas.ts";
import { type Lab, withLab } from "./lib/netns.ts";
import { StrongswanPeer } from "./lib/strongswan.ts";
import { UdpLink } from "./lib/udp_link.ts";

const ME = "192.0.2.1", CHARON = "192.0.2.2";
const PSK = "initiator-v2 self check";
const BUSY_ID = "busy.example.net";

/** Sends `ds` and reads answers with `read` until it returns a value, retransmitting. */
async function roundTrip<T>(
  link: UdpLink,
  ds: readonly Uint8Array[],
  read: (d: Uint8Array) => T | undefined,
): Promise<T> {
  for (let attempt = 0; attempt < 5; attempt++) {
    await link.send(CHARON, 500, ds);
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      const got = await link.recv(until - Date.now());
      if (got === undefined) break;
      const v = read(got.data);
      if (v !== undefined) return v;
    }
  }
  throw new Error("no answer from charon after 5 tries");
}

function spi(n: number): string {
  return n.toString(16).padStart(8, "0");
}

async function oneIkeSa(peer: StrongswanPeer): Promise<IkeSaInfo> {
  const sas = (await peer.listSas()).filter((s) => s.state === "ESTABLISHED");
  assert.equal(sas.length, 1, JSON.stringify(sas));
  return sas[0]!;
}

/** Our children and charon's agree SPI for SPI (its inbound is our outbound). */
async function assertChildren(peer: StrongswanPeer, children: readonly Child[]): Promise<void> {
  const sa = await oneIkeSa(peer);
  const theirs = sa.children.filter((c) => c.state === "INSTALLED")
    .map((c) => `${spi(c.spiIn)}/${spi(c.spiOut)}`).sort();
  const ours = children.map((c) => `${hex(c.outSpi)}/${hex(c.inSpi)}`).sort();
  assert.deepEqual(theirs, ours);
}

async function scenario(lab: Lab, t: Deno.TestContext): Promise<void> {
  const me = await lab.addNamespace("init");
  const gw = await lab.addNamespace("swan");
  await lab.veth({ ns: me, ifname: "outer0", cidr: `${ME}/24` }, {
    ns: gw,
    ifname: "outer0",
    cidr: `${CHARON}/24`,
  });
  const peer = await StrongswanPeer.start(lab, {
    name: "resp",
    ns: gw,
    charon: { fragmentSize: 300, logLevels: { ike: 2, enc: 1 } },
    config: {
      connections: [{
        name: "v2",
        version: 2,
        localAddrs: [CHARON],
        remoteAddrs: [ME],
        proposals: [
          "aes128gcm16-prfsha256-ecp256",
          "aes256-sha256-modp3072",
          "chacha20poly1305-prfsha256-curve25519",
        ],
        fragmentation: "yes",
        dpdDelay: 0,
        children: [{
          name: "lan",
          localTs: ["203.0.113.0/24"],
          remoteTs: ["198.51.100.0/24"],
          espProposals: ["aes128gcm16-modp3072", "aes128gcm16", "aes256-sha256"],
        }],
      }, {
        // charon, the IKE responder, rekeys this CHILD_SA itself after 3 s and checks
        // liveness every second: the initiator has to answer its requests.
        name: "busy",
        version: 2,
        localAddrs: [CHARON],
        remoteAddrs: [ME],
        localId: CHARON,
        remoteId: BUSY_ID,
        proposals: ["aes128gcm16-prfsha256-ecp256"],
        dpdDelay: 1,
        children: [{
          name: "busy",
          localTs: ["203.0.113.0/24"],
          remoteTs: ["198.51.100.0/24"],
          espProposals: ["aes128gcm16-modp3072"],
          rekeyTime: 3,
          randTime: 0,
        }],
      }],
      secrets: [
        { name: "p", ids: [ME, CHARON], secret: PSK },
        { name: "q", ids: [BUSY_ID, CHARON], secret: PSK },
      ],
    },
  });
  // charon routes the CHILD_SA's traffic from an address inside its local selector.
  await lab.mustExec(gw, ["ip", "addr", "add", "203.0.113.1/24", "dev", "lo"]);
  const link = await UdpLink.open(lab, me, ME, 500);
  const failed: string[] = [];
  const step = async (name: string, fn: () => Promise<void>) => {
    if (!(await t.step(name, fn))) failed.push(name);
  };
  try {
    // 20 /29s within 198.51.100.0/24: the narrowed answer is long enough that charon fragments it.
    const tsi: Selector[] = [];
    for (let i = 0; i < 20; i++) tsi.push(cidr4(`198.51.100.${i * 8}/29`));
    const i = new V2Initiator({
      psk: PSK,
      self: { address: ME, port: 500 },
      responder: { address: CHARON, port: 500 },
      ike: ["aes128gcm16-prfsha256-modp2048-ecp256"],
      keGroup: 14,
      esp: ["aes128gcm16"],
      tsi,
      tsr: [cidr4("203.0.113.0/24")],
      fragmentSize: 64,
    });

    await step(
      "IKE_SA_INIT: INVALID_KE_PAYLOAD asks for ECP-256, the retry completes",
      async () => {
        const first = await roundTrip(link, [i.init()], (d) => i.readInit(d));
        assert.deepEqual(first, { kind: "invalidKe", group: 19 });
        const r = await roundTrip(link, [i.init()], (d) => i.readInit(d));
        assert.equal(r.kind, "done");
        if (r.kind !== "done") return;
        // Our address arrived unchanged; charon fakes its own NAT_DETECTION_SOURCE_IP because
        // kernel-libipsec needs UDP-encapsulated ESP (strongSwan forces encap then).
        assert.ok(r.natDestOk, JSON.stringify(r));
        assert.ok(!r.natSourceOk, JSON.stringify(r));
        assert.ok(r.fragmentation);
      },
    );

    await step("IKE_AUTH in fragments, AUTH of both sides, CHILD_SA SPIs match", async () => {
      const frags = i.auth({ initialContact: true });
      assert.ok(frags.length >= 3, `sent ${frags.length} fragments`);
      let responseFragments = 0;
      const r = await roundTrip(link, frags, (d) => {
        if (d[16] === Pt.SKF) responseFragments++;
        return i.readAuth(d);
      });
      assert.deepEqual(r.errors, []);
      assert.ok(responseFragments >= 2, `charon answered in ${responseFragments} fragments`);
      assert.equal(i.children.length, 1);
      assert.equal(i.children[0]!.tsi.length, 20);
      const sa = await oneIkeSa(peer);
      assert.equal(sa.initiatorSpi, hex(i.spiI));
      assert.equal(sa.responderSpi, hex(i.sa!.spiR));
      assert.equal(sa.encrAlg, "AES_GCM_16");
      assert.equal(sa.dhGroup, "ECP_256");
      await assertChildren(peer, i.children);
    });

    await step("CREATE_CHILD_SA: a second child narrowed, then a rekey with PFS", async () => {
      const r = await roundTrip(
        link,
        i.createChild({ tsi: [cidr4("198.51.100.200/29")], tsr: [cidr4("203.0.0.0/8")] }),
        (d) => i.readCreateChild(d),
      );
      assert.deepEqual(r.errors, []);
      const c = i.children[1]!;
      assert.deepEqual(c.tsr.map(tsText), ["203.0.113.0-203.0.113.255"], "TSr narrowed to config");
      const rk = await roundTrip(
        link,
        i.createChild({ rekey: c, pfs: 15, esp: ["aes128gcm16-modp3072"] }),
        (d) => i.readCreateChild(d),
      );
      assert.deepEqual(rk.errors, []);
      assert.ok(rk.first(Pt.KE) !== undefined);
      assert.equal(i.children[2]!.pfs, 15);
      const del = await roundTrip(link, i.deleteChildren([c]), (d) => i.readResponse(d));
      assert.equal(del.first(Pt.D) !== undefined, true, "Delete answered with charon's SPI");
      i.children.splice(1, 1);
      await assertChildren(peer, i.children);
      const withPfs = (await oneIkeSa(peer)).children.find((x) =>
        x.spiOut === parseInt(hex(i.children[1]!.inSpi), 16)
      );
      assert.equal(withPfs?.dhGroup, "MODP_3072");
    });

    await step("IKE SA rekey to AES-CBC-256/SHA-256/MODP-3072, children move", async () => {
      const old = i.sa!;
      const r = await roundTrip(
        link,
        i.rekeyIke({ ike: ["aes256-sha256-modp3072"] }),
        (d) => i.readCreateChild(d),
      );
      assert.deepEqual(r.errors, []);
      assert.notEqual(hex(i.sa!.spiI), hex(old.spiI));
      const del: Received = await roundTrip(link, i.deleteIke(), (d) => i.readResponse(d));
      assert.equal(del.header.exchange, Exchange.INFORMATIONAL);
      i.dropOld();
      const sa = await oneIkeSa(peer);
      assert.equal(sa.initiatorSpi, hex(i.sa!.spiI));
      assert.equal(sa.encrAlg, "AES_CBC");
      assert.equal(sa.dhGroup, "MODP_3072");
      await assertChildren(peer, i.children);
    });

    await step(
      "after the IKE rekey: liveness, child rekey without PFS, rekey to ChaCha20, Deletes",
      async () => {
        const live = await roundTrip(link, i.informational(), (d) => i.readResponse(d));
        assert.deepEqual(live.payloads, []);
        const rk = await roundTrip(
          link,
          i.createChild({ rekey: i.children[0]! }),
          (d) => i.readCreateChild(d),
        );
        assert.deepEqual(rk.errors, []);
        await roundTrip(link, i.deleteChildren([i.children[0]!]), (d) => i.readResponse(d));
        i.children.shift();
        await assertChildren(peer, i.children);
        // A second IKE rekey, to ChaCha20-Poly1305 with Curve25519.
        await roundTrip(
          link,
          i.rekeyIke({ ike: ["chacha20poly1305-prfsha256-curve25519"] }),
          (d) => i.readCreateChild(d),
        );
        await roundTrip(link, i.deleteIke(), (d) => i.readResponse(d));
        i.dropOld();
        const sa = await oneIkeSa(peer);
        assert.equal(sa.encrAlg, "CHACHA20_POLY1305");
        assert.equal(sa.dhGroup, "CURVE_25519");
        await assertChildren(peer, i.children);
        // A REKEY_SA for an SPI charon does not know is refused with CHILD_SA_NOT_FOUND.
        const ghost = { ...i.children[0]!, inSpi: Uint8Array.of(1, 2, 3, 4) };
        const bad = await roundTrip(
          link,
          i.createChild({ rekey: ghost }),
          (d) => i.readCreateChild(d),
        );
        assert.deepEqual(bad.errors, [Nt.CHILD_SA_NOT_FOUND]);
        await roundTrip(link, i.deleteIke(i.sa!), (d) => i.readResponse(d));
        const left = (await peer.listSas()).filter((s) => s.state === "ESTABLISHED");
        assert.deepEqual(left, []);
      },
    );

    await step(
      "answering charon's requests: its CHILD_SA rekey (PFS), Delete, liveness",
      async () => {
        const b = new V2Initiator({
          psk: PSK,
          self: { address: ME, port: 500 },
          responder: { address: CHARON, port: 500 },
          id: { type: IdType.FQDN, data: new TextEncoder().encode(BUSY_ID) },
          esp: ["aes128gcm16"],
          tsi: [cidr4("198.51.100.0/24")],
          tsr: [cidr4("203.0.113.0/24")],
        });
        await roundTrip(link, [b.init()], (d) => b.readInit(d));
        const a = await roundTrip(link, b.auth(), (d) => b.readAuth(d));
        assert.deepEqual(a.errors, []);
        const first = b.children[0]!;
        // Serve charon until it rekeyed the child and deleted the old one.
        const seen = new Set<number>();
        const until = Date.now() + 20_000;
        while (Date.now() < until) {
          const got = await link.recv(until - Date.now());
          if (got === undefined) break;
          await link.send(CHARON, 500, b.respond(got.data));
          seen.add(b.lastPeerRequest!.header.exchange);
          const gone = !b.children.some((c) => hex(c.inSpi) === hex(first.inSpi));
          if (gone && seen.has(Exchange.CREATE_CHILD_SA) && b.children.length === 1) break;
        }
        assert.ok(seen.has(Exchange.CREATE_CHILD_SA), "charon rekeyed the CHILD_SA");
        assert.equal(b.children.length, 1, "the old CHILD_SA was deleted by charon");
        assert.equal(b.children[0]!.pfs, 15);
        const sas = (await peer.listSas()).filter((x) => x.name === "busy");
        const theirs = sas.flatMap((x) => x.children).filter((c) => c.state === "INSTALLED");
        assert.deepEqual(
          theirs.map((c) => `${spi(c.spiIn)}/${spi(c.spiOut)}`),
          [`${hex(b.children[0]!.outSpi)}/${hex(b.children[0]!.inSpi)}`],
        );
        // Liveness: charon's empty INFORMATIONAL requests, answered from our side.
        const probe = await link.recv(5000);
        assert.ok(probe !== undefined, "a liveness check arrives");
        await link.send(CHARON, 500, b.respond(probe.data));
        assert.equal(b.lastPeerRequest!.header.exchange, Exchange.INFORMATIONAL);
        // A retransmitted request is answered with the same bytes (§2.1).
        assert.deepEqual(b.respond(probe.data).map(hex), b.sa!.lastResponse.map(hex));
        await roundTrip(link, b.deleteIke(b.sa!), (d) => {
          try {
            return b.readResponse(d);
          } catch {
            return undefined; // a crossing liveness request
          }
        });
      },
    );
  } finally {
    await link.close();
  }
  if (failed.length > 0) throw new Error(`failed: ${failed.join("; ")}`);
}

Deno.test({
  name: "IKEv2 test initiator against strongSwan 5.9.8 as responder",
  ignore: Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: (t) =>
    withLab(async (lab) => {
      await scenario(lab, t);
    }),
});
