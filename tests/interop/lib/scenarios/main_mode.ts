/**
 * IKEv1 Main Mode with PSK, strongSwan 5.9.8 initiating, the responder under test on the
 * other side (RFC 2409 §5.4): three proposal sets (MODP-2048 with AES-CBC, ECP-256 with SHA-1,
 * Curve25519), Quick Mode with and without PFS and several per Phase 1 (§5.5), two subnets as
 * two CHILD_SAs, Delete from the peer (RFC 2408 §3.15). After each negotiation both sides'
 * SA tables must agree on cookies, SPIs and algorithms, and ping must cross.
 * @module
 */

import assert from "node:assert/strict";
import { assertAgreement, waitEspGone, waitIkeGone } from "../agree.ts";
import { HOST_A_UPPER, HOST_B_UPPER, type Ikev1Lab } from "../ikev1_lab.ts";
import type { Scenario } from "../suite.ts";
import { ping } from "../traffic.ts";

/**
 * Pings host B from host A and back (3 each); both must get every reply, but `inFlight` per
 * direction (a CHILD_SA that the peer keeps rekeying may lose the one in flight when it drops
 * its old SA).
 */
export async function pingBothWays(
  L: Ikev1Lab,
  hostA = L.sites.a.hostAddress,
  hostB = L.sites.b.hostAddress,
  inFlight = 0,
): Promise<void> {
  const there = await ping(L.lab, L.sites.a.host, hostB, { from: hostA });
  assert.ok(there.received >= 3 - inFlight, there.output);
  const back = await ping(L.lab, L.sites.b.host, hostA, { from: hostB, size: 1200 });
  assert.ok(back.received >= 3 - inFlight, back.output);
}

/** Terminates an initiator connection and waits until the responder dropped it all. */
export async function tearDown(L: Ikev1Lab, connection: string, cookie: string, spis: number[]) {
  await L.initiator.terminate({ ike: connection });
  await waitEspGone(L.responder, spis);
  await waitIkeGone(L.responder, cookie);
}

/** The Main Mode scenarios, in order. */
export const MAIN_MODE: readonly Scenario[] = [
  {
    name: "aes256-sha256-modp2048; Quick Mode aes128-sha256 without, then with PFS; Delete",
    fn: async (L) => {
      await L.initiator.initiate("modp");
      const first = await assertAgreement(L.initiator, L.responder, {
        connection: "hq-modp",
        peer: "hq",
        ike: "aes256-sha256-modp2048",
        children: { modp: { transform: "aes128-sha256" } },
      });
      await pingBothWays(L);
      // A second Quick Mode on the same Phase 1, with PFS (RFC 2409 §5.5).
      await L.initiator.initiate("modp-pfs", { ike: "hq-modp" });
      const second = await assertAgreement(L.initiator, L.responder, {
        connection: "hq-modp",
        peer: "hq",
        ike: "aes256-sha256-modp2048",
        children: {
          modp: { transform: "aes128-sha256" },
          "modp-pfs": { transform: "aes128-sha256", pfs: "modp2048" },
        },
      });
      assert.equal(second.ike.initiatorSpi, first.ike.initiatorSpi, "same Phase 1");
      // Delete of one CHILD_SA from the peer: its SAs go, the other child and Phase 1 stay.
      const pfs = second.children.get("modp-pfs")!;
      await L.initiator.terminate({ child: "modp-pfs" });
      await waitEspGone(L.responder, [pfs.spiIn, pfs.spiOut]);
      const kept = second.children.get("modp")!;
      const esp = await L.responder.espSas();
      assert.ok(esp.some((s) => s.spi === kept.spiOut), "the other child's inbound SA stays");
      await pingBothWays(L);
      await tearDown(L, "hq-modp", first.ike.initiatorSpi, [kept.spiIn, kept.spiOut]);
    },
  },
  {
    name: "aes128-sha1-ecp256; Quick Mode aes128gcm16",
    fn: async (L) => {
      await L.initiator.initiate("ecp");
      const a = await assertAgreement(L.initiator, L.responder, {
        connection: "hq-ecp",
        peer: "hq",
        ike: "aes128-sha1-ecp256",
        children: { ecp: { transform: "aes128gcm16" } },
      });
      await pingBothWays(L);
      const c = a.children.get("ecp")!;
      await tearDown(L, "hq-ecp", a.ike.initiatorSpi, [c.spiIn, c.spiOut]);
    },
  },
  {
    name: "aes256-sha256-curve25519; Quick Mode aes256gcm16 with curve25519 PFS",
    fn: async (L) => {
      await L.initiator.initiate("x25519");
      const a = await assertAgreement(L.initiator, L.responder, {
        connection: "hq-x25519",
        peer: "hq",
        ike: "aes256-sha256-curve25519",
        children: { x25519: { transform: "aes256gcm16", pfs: "curve25519" } },
      });
      await pingBothWays(L);
      const c = a.children.get("x25519")!;
      await tearDown(L, "hq-x25519", a.ike.initiatorSpi, [c.spiIn, c.spiOut]);
    },
  },
  {
    name: "two subnets as two CHILD_SAs on one Phase 1",
    fn: async (L) => {
      await L.initiator.initiate("lower");
      await L.initiator.initiate("upper", { ike: "hq-two" });
      const a = await assertAgreement(L.initiator, L.responder, {
        connection: "hq-two",
        peer: "hq",
        ike: "aes256-sha256-modp2048",
        children: { lower: { transform: "aes128gcm16" }, upper: { transform: "aes128gcm16" } },
      });
      const lower = a.children.get("lower")!;
      const upper = a.children.get("upper")!;
      assert.deepEqual([lower.localTs, lower.remoteTs], [["203.0.113.0/25"], ["198.51.100.0/25"]]);
      assert.deepEqual(
        [upper.localTs, upper.remoteTs],
        [["203.0.113.128/25"], ["198.51.100.128/25"]],
      );
      await pingBothWays(L);
      await pingBothWays(L, HOST_A_UPPER, HOST_B_UPPER);
      // Each subnet's traffic went through its own CHILD_SA.
      const now = (await L.initiator.childSas()).filter((c) => c.state === "INSTALLED");
      for (const name of ["lower", "upper"]) {
        const c = now.find((x) => x.name === name);
        assert.ok(c && c.packetsIn >= 6 && c.packetsOut >= 6, `${name}: ${JSON.stringify(c)}`);
      }
      await tearDown(L, "hq-two", a.ike.initiatorSpi, [
        lower.spiIn,
        lower.spiOut,
        upper.spiIn,
        upper.spiOut,
      ]);
    },
  },
];
