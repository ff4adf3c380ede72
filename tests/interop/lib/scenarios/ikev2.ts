/**
 * IKEv2 interop scenarios, strongSwan 5.9.8 initiating, the responder under test on side A
 * (RFC 7296): GCM + ECP-256, CBC + MODP-3072 with PFS in a CHILD_SA rekey, Curve25519,
 * ChaCha20-Poly1305, an INVALID_KE_PAYLOAD round trip, CHILD_SA and IKE SA rekeys under
 * traffic (make-before-break), two CHILD_SAs, Deletes, ID_DER_ASN1_DN identities with a PSK,
 * an ESP proposal mismatch, COOKIEs
 * under a half-open flood. After each negotiation both sides' tables agree on SPIs and
 * algorithms (`swanctl --list-sas` vs `show ike sa` / `show esp sa`), then ping and a short
 * iperf3 cross the tunnel.
 * @module
 */

import assert from "node:assert/strict";
import { Nt } from "../../../exchange/initiator_v2/consts.ts";
import { Received, V2Initiator } from "../../../exchange/initiator_v2/initiator.ts";
import { decodeMessage } from "../../../exchange/initiator_v2/wire.ts";
import { type Agreement, assertAgreement, initiatorIke, waitEspGone } from "../agree.ts";
import { BranchgateResponder } from "../branchgate_responder.ts";
import { HOST_A_UPPER, HOST_B_UPPER, type Ikev1Lab } from "../ikev1_lab.ts";
import { DN_BRANCH, FLOODER, PEER, PEER_DN } from "../ikev2_lab.ts";
import type { Scenario } from "../suite.ts";
import { iperfTcp, startPingTrain } from "../traffic.ts";
import { UdpLink } from "../udp_link.ts";
import { waitFor } from "../wait.ts";
import { pingBothWays, tearDown } from "./main_mode.ts";

/** Ping both ways and 2 s of iperf3 TCP from host A to host B (or the upper addresses). */
async function traffic(L: Ikev1Lab, upper = false): Promise<void> {
  const a = upper ? HOST_A_UPPER : L.sites.a.hostAddress;
  const b = upper ? HOST_B_UPPER : L.sites.b.hostAddress;
  await pingBothWays(L, a, b);
  const run = await iperfTcp(
    L.lab,
    { ns: L.sites.a.host, address: a },
    { ns: L.sites.b.host, address: b },
    2,
  );
  assert.ok(run.bps > 1e6, `iperf3 ${(run.bps / 1e6).toFixed(1)} Mbit/s`);
}

/** Tears down every SA of `connection` the initiator holds. */
async function tearDownAll(L: Ikev1Lab, connection: string): Promise<void> {
  const ike = await initiatorIke(L.initiator, connection);
  assert.ok(ike, `initiator holds '${connection}'`);
  await tearDown(L, connection, ike.initiatorSpi, ike.children.flatMap((c) => [c.spiIn, c.spiOut]));
}

/**
 * One connection with one child: initiate, agree (with responder peer `o.peer`), `o.check`,
 * traffic, tear down.
 */
function simple(
  name: string,
  conn: string,
  ike: string,
  transform: string,
  o: { peer?: string; check?: (L: Ikev1Lab) => Promise<void> } = {},
): Scenario {
  return {
    name,
    fn: async (L) => {
      await L.initiator.initiate(conn);
      await assertAgreement(L.initiator, L.responder, {
        connection: conn,
        peer: o.peer ?? PEER,
        version: 2,
        ike,
        children: { [conn]: { transform } },
      });
      await o.check?.(L);
      await traffic(L);
      await tearDownAll(L, conn);
    },
  };
}

/** Brings up connection "gcm" (AES-GCM, ECP-256, one child) and checks both sides agree. */
async function upGcm(L: Ikev1Lab): Promise<Agreement> {
  await L.initiator.initiate("gcm");
  return await assertAgreement(L.initiator, L.responder, {
    connection: "gcm",
    peer: PEER,
    version: 2,
    ike: "aes128gcm16-prfsha256-ecp256",
    children: { gcm: { transform: "aes128gcm16" } },
  });
}

/** Waits until the initiator holds an installed `child` other than `old`; returns agreement. */
async function rekeyedChild(
  L: Ikev1Lab,
  conn: string,
  child: string,
  oldSpiIn: number,
  ike: string,
  exp: { transform: string; pfs?: string },
): Promise<Agreement> {
  await L.initiator.waitForSas(
    (sas) =>
      sas.flatMap((s) => s.children).some((c) =>
        c.name === child && c.state === "INSTALLED" && c.spiIn !== oldSpiIn
      ) || undefined,
    { timeoutMs: 15_000, what: `a rekeyed ${child}` },
  );
  return await assertAgreement(L.initiator, L.responder, {
    connection: conn,
    peer: PEER,
    version: 2,
    ike,
    children: { [child]: exp },
  });
}

/** Sends IKE_SA_INITs from fresh initiators at FLOODER until one is answered with a COOKIE. */
async function floodUntilCookie(L: Ikev1Lab, max: number): Promise<number> {
  // charon holds *:500 in that namespace; the flood comes from another port.
  const link = await UdpLink.open(L.lab, L.sites.b.gw, FLOODER.address, FLOODER.port);
  try {
    for (let sent = 0; sent < max;) {
      const batch: Uint8Array[] = [];
      for (let k = 0; k < 20; k++, sent++) {
        batch.push(
          new V2Initiator({
            psk: "none",
            self: FLOODER,
            responder: { address: L.sites.a.outerAddress, port: 500 },
          }).init(),
        );
      }
      await link.send(L.sites.a.outerAddress, 500, batch);
      for (;;) {
        const got = await link.recv(300);
        if (got === undefined) break;
        const m = decodeMessage(got.data);
        if (new Received(m.header, m.payloads).notify(Nt.COOKIE) !== undefined) return sent;
      }
    }
    throw new Error(`no COOKIE after ${max} half-open IKE_SA_INITs`);
  } finally {
    await link.close();
  }
}

/** 16 hex digits → 8 bytes. */
function spiBytes(h: string): Uint8Array {
  return Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
}

/**
 * Hostile IKEv2 datagrams, seeded: INFORMATIONAL requests with the real SPIs and a random SK
 * body (they fail the ICV), requests with unknown SPIs (INVALID_IKE_SPI, RFC 7296 §2.21.4),
 * and junk with an IKEv2 version octet. `marker`: the Non-ESP Marker of the NAT-T port.
 */
function hostileV2(spiI: Uint8Array, spiR: Uint8Array, n: number, marker: boolean): Uint8Array[] {
  let seed = 0x9e3779b9;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
  const out: Uint8Array[] = [];
  for (let k = 0; k < n; k++) {
    const d = new Uint8Array(28 + 4 + 8 + 48 + 16);
    for (let j = 0; j < d.length; j++) d[j] = rnd() & 0xff;
    if (k % 3 !== 2) {
      if (k % 3 === 0) {
        d.set(spiI, 0);
        d.set(spiR, 8);
      }
      d[16] = 46; // SK
      d[17] = 0x20;
      d[18] = 37; // INFORMATIONAL
      d[19] = 0x08; // a request from the original initiator
      const dv = new DataView(d.buffer);
      // Guessed message IDs: those in the window reach the ICV check, the rest stop before.
      dv.setUint32(20, k % 8);
      dv.setUint32(24, d.length);
      d[28] = 0;
      d[29] = 0;
      dv.setUint16(30, d.length - 28);
    } else {
      d[17] = 0x20;
    }
    out.push(marker ? Uint8Array.of(0, 0, 0, 0, ...d) : d);
  }
  return out;
}

/** The IKEv2 scenarios, in order. */
export const IKEV2: readonly Scenario[] = [
  simple(
    "aes128gcm16-prfsha256-ecp256, ESP aes128gcm16",
    "gcm",
    "aes128gcm16-prfsha256-ecp256",
    "aes128gcm16",
  ),
  simple(
    "aes256-sha256-curve25519, ESP aes256gcm16",
    "x25519",
    "aes256-sha256-prfsha256-curve25519",
    "aes256gcm16",
  ),
  simple(
    "chacha20poly1305-prfsha256-ecp256, ESP chacha20poly1305",
    "chacha",
    "chacha20poly1305-prfsha256-ecp256",
    "chacha20poly1305",
  ),
  {
    name: "aes256-sha256-modp3072: CHILD_SA rekey with PFS (a MODP-3072 KE in CREATE_CHILD_SA)",
    fn: async (L) => {
      const ike = "aes256-sha256-prfsha256-modp3072";
      await L.initiator.initiate("cbc");
      const first = await assertAgreement(L.initiator, L.responder, {
        connection: "cbc",
        peer: PEER,
        version: 2,
        ike,
        children: { cbc: { transform: "aes256-sha256" } }, // no KE in IKE_AUTH (§1.2)
      });
      await traffic(L);
      const old = first.children.get("cbc")!;
      await L.initiator.rekey({ child: "cbc" });
      await rekeyedChild(L, "cbc", "cbc", old.spiIn, ike, {
        transform: "aes256-sha256",
        pfs: "modp3072",
      });
      await waitEspGone(L.responder, [old.spiIn, old.spiOut]);
      await traffic(L);
      await tearDownAll(L, "cbc");
    },
  },
  {
    name: "INVALID_KE_PAYLOAD: the initiator guessed MODP-2048, retries with ECP-256",
    fn: async (L) => {
      await L.initiator.initiate("ke");
      await assertAgreement(L.initiator, L.responder, {
        connection: "ke",
        peer: PEER,
        version: 2,
        ike: "aes128gcm16-prfsha256-ecp256",
        children: { ke: { transform: "aes128gcm16" } },
      });
      await L.initiator.waitForLog(/requested ECP_256/, { timeoutMs: 2000 });
      await traffic(L);
      await tearDownAll(L, "ke");
    },
  },
  {
    name: "CHILD_SA rekey and IKE SA rekey under traffic: make-before-break, no pings lost",
    fn: async (L) => {
      const ike = "aes128gcm16-prfsha256-ecp256";
      const first = await upGcm(L);
      const old = first.children.get("gcm")!;
      const train = startPingTrain(L.lab, L.sites.a.host, L.sites.b.hostAddress, "v2rekey", {
        interval: 0.02,
        from: L.sites.a.hostAddress,
      });
      let pings;
      let second: Agreement;
      try {
        await new Promise((r) => setTimeout(r, 500));
        await L.initiator.rekey({ child: "gcm" });
        second = await rekeyedChild(L, "gcm", "gcm", old.spiIn, ike, { transform: "aes128gcm16" });
        await waitEspGone(L.responder, [old.spiIn, old.spiOut]);
        await L.initiator.rekey({ ike: "gcm" });
        await waitFor(async () => {
          const sa = await initiatorIke(L.initiator, "gcm");
          return sa !== undefined && sa.initiatorSpi !== first.ike.initiatorSpi &&
              sa.children.length > 0
            ? true
            : undefined;
        }, { timeoutMs: 15_000, what: "a rekeyed gcm IKE SA holding the CHILD_SA" });
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        pings = await train.finish();
      }
      const third = await rekeyedChild(L, "gcm", "gcm", old.spiIn, ike, {
        transform: "aes128gcm16",
      });
      assert.notEqual(third.ike.initiatorSpi, first.ike.initiatorSpi, "new IKE SA");
      assert.equal(
        third.children.get("gcm")!.spiIn,
        second.children.get("gcm")!.spiIn,
        "the CHILD_SA moved to the new IKE SA",
      );
      await waitFor(async () => {
        const all = await L.responder.ikeSas();
        return all.some((x) => x.initiatorSpi === first.ike.initiatorSpi) ? undefined : true;
      }, { what: "old IKE SA deleted", timeoutMs: 10_000 });
      assert.ok(pings.sent > 50, pings.output.slice(-300));
      assert.ok(
        pings.sent - pings.received <= 1,
        `${pings.sent - pings.received} of ${pings.sent} pings lost across two rekeys`,
      );
      await traffic(L);
      await tearDownAll(L, "gcm");
    },
  },
  {
    name: "two CHILD_SAs on one IKE SA; Delete of one keeps the other",
    fn: async (L) => {
      await L.initiator.initiate("lower");
      await L.initiator.initiate("upper", { ike: "two" });
      const a = await assertAgreement(L.initiator, L.responder, {
        connection: "two",
        peer: PEER,
        version: 2,
        ike: "aes128gcm16-prfsha256-ecp256",
        children: { lower: { transform: "aes128gcm16" }, upper: { transform: "aes128gcm16" } },
      });
      const lower = a.children.get("lower")!;
      const upper = a.children.get("upper")!;
      assert.deepEqual([lower.localTs, lower.remoteTs], [["203.0.113.0/25"], ["198.51.100.0/25"]]);
      await traffic(L);
      await traffic(L, true);
      await L.initiator.terminate({ child: "upper" });
      await waitEspGone(L.responder, [upper.spiIn, upper.spiOut]);
      const esp = await L.responder.espSas();
      assert.ok(esp.some((s) => s.spi === lower.spiOut), "the other child's inbound SA stays");
      await pingBothWays(L);
      await tearDown(L, "two", a.ike.initiatorSpi, [lower.spiIn, lower.spiOut]);
    },
  },
  simple(
    "ID_DER_ASN1_DN identities with PSK: the DN picks the peer (and its key) both ways",
    "dn",
    "aes128gcm16-prfsha256-ecp256",
    "aes128gcm16",
    {
      peer: PEER_DN,
      // charon checked our IDr against its remote_id (the gateway's DN) before installing.
      check: async (L) => {
        if (L.responder.kind !== "branchgate") return;
        const line = await L.responder.waitForLog(/IKE SA established \(IKEv2\).*branch-dn/, {
          timeoutMs: 5000,
        });
        assert.ok(line.includes(DN_BRANCH), `the peer's DN in the log: ${line}`);
      },
    },
  ),
  {
    name:
      "forged IKEv2 (real SPIs, unknown SPIs, junk) from the peer's address: SA stays, counted, few lines, rekey",
    fn: async (L) => {
      const ike = "aes128gcm16-prfsha256-ecp256";
      const a = await upGcm(L);
      const spiI = spiBytes(a.responderIke.initiatorSpi);
      const spiR = spiBytes(a.responderIke.responderSpi);
      const linesBefore = L.responder.kind === "branchgate"
        ? (await L.responder.log()).split("\n").length
        : 0;
      // Another port than the COOKIE flood's: a relay's socket may outlive its scenario.
      const forger = { address: FLOODER.address, port: FLOODER.port + 1 };
      const link = await UdpLink.open(L.lab, L.sites.b.gw, forger.address, forger.port);
      let answers = 0;
      try {
        for (const [port, marker] of [[4500, true], [500, false]] as const) {
          const all = hostileV2(spiI, spiR, 3000, marker);
          for (let k = 0; k < all.length; k += 100) {
            await link.send(L.sites.a.outerAddress, port, all.slice(k, k + 100));
          }
        }
        for (;;) {
          const got = await link.recv(1000);
          if (got === undefined) break;
          answers++;
        }
      } finally {
        await link.close();
      }
      // INVALID_IKE_SPI within the notify rate (20/s, burst 40), never one per datagram.
      assert.ok(answers < 200, `${answers} answers to 6000 hostile datagrams`);
      const sas = await L.responder.ikeSas();
      assert.ok(
        sas.some((s) =>
          s.initiatorSpi === a.responderIke.initiatorSpi && s.state === "ESTABLISHED"
        ),
        "the IKE SA is still up",
      );
      if (L.responder instanceof BranchgateResponder) {
        const table = await L.responder.daemon.show("ike sa");
        assert.ok(!table.includes(`:${forger.port}`), `the SA moved to the forger: ${table}`);
        const drops = await L.responder.daemon.show("drops");
        console.log(drops);
        for (const reason of ["unauthenticated", "message-id", "no-sa"]) {
          assert.match(drops, new RegExp(`ikev2 ${reason} +[1-9]`), `ikev2 ${reason}`);
        }
        const during = (await L.responder.log()).split("\n").slice(linesBefore - 1);
        const loud = during.filter((l) => /level=(warn|error)/.test(l));
        assert.ok(
          loud.length <= 5,
          `warn lines during the flood:\n${loud.slice(0, 10).join("\n")}`,
        );
      }
      // The peer rekeys its CHILD_SA right after (make-before-break), traffic flows.
      const old = a.children.get("gcm")!;
      await L.initiator.rekey({ child: "gcm" });
      await rekeyedChild(L, "gcm", "gcm", old.spiIn, ike, { transform: "aes128gcm16" });
      await traffic(L);
      await tearDownAll(L, "gcm");
    },
  },
  {
    name: "ESP proposal mismatch: NO_PROPOSAL_CHOSEN, a log line naming both offers",
    fn: async (L) => {
      const r = await L.initiator.tryInitiate("badesp", 10);
      assert.notEqual(r.code, 0, "the CHILD_SA must fail");
      await L.initiator.waitForLog(/NO_PROPOSAL_CHOSEN/, { timeoutMs: 5000 });
      if (L.responder.kind === "branchgate") {
        const line = await L.responder.waitForLog(/aes256-sha512/, { timeoutMs: 5000 });
        assert.match(line, /aes128gcm16/, `one line names the offer and the config: ${line}`);
      }
      assert.equal(
        (await L.responder.espSas()).filter((s) => s.transform === "aes256-sha512").length,
        0,
      );
      // IKEv2 keeps the IKE SA of a failed IKE_AUTH child (§1.2); remove it.
      const ike = await initiatorIke(L.initiator, "badesp");
      if (ike !== undefined) await tearDown(L, "badesp", ike.initiatorSpi, []);
    },
  },
  {
    name: "COOKIEs under a half-open flood: the real initiator still gets through",
    fn: async (L) => {
      const sent = await floodUntilCookie(L, 3000);
      await upGcm(L);
      // branchgate challenges every IKE_SA_INIT while the half-open count is over its
      // threshold, so strongSwan had to retry with the COOKIE (§2.6). (The reference counts
      // per source address and lets the other address through unchallenged.)
      if (L.responder.kind === "branchgate") {
        await L.initiator.waitForLog(/IKE_SA_INIT response 0 \[ N\(COOKIE\) \]/, {
          timeoutMs: 2000,
        }).catch(() => {
          throw new Error(`after ${sent} half-open SAs the initiator got no COOKIE`);
        });
      }
      await traffic(L);
      await tearDownAll(L, "gcm");
    },
  },
];
