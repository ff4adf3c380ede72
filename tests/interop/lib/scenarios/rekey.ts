/**
 * Peer-initiated rekeying and liveness (strongSwan initiator with short lifetimes): a new Quick
 * Mode replaces a CHILD_SA make-before-break and the old one goes with the peer's Delete
 * (RFC 2409 §5.5, RFC 2408 §3.15); a new Main Mode replaces Phase 1 while the CHILD_SA keeps
 * working; DPD R-U-THERE/R-U-THERE-ACK both ways (RFC 3706 §5); a peer that vanishes without
 * Deletes is declared dead and its SAs removed. The last scenario kills the initiator.
 * @module
 */

import assert from "node:assert/strict";
import { assertAgreement, initiatorIke, waitEspGone, waitIkeGone } from "../agree.ts";
import type { Scenario } from "../suite.ts";
import { waitFor } from "../wait.ts";
import { pingBothWays, tearDown } from "./main_mode.ts";

const QM = {
  connection: "rekey-qm",
  peer: "rekey",
  ike: "aes128-sha256-modp2048",
  children: { "rk-qm": { transform: "aes128gcm16" } },
} as const;

/**
 * Echo requests a ping (3, 200 ms apart) may lose per direction while rk-qm is rekeyed every
 * 6 s: strongSwan drops its old SA as it sends Quick Mode message 3, so the one reply we send
 * on it in that moment is lost (in flight; the traffic step bounds this under load).
 */
const IN_FLIGHT = 1;

/** The rekey and DPD scenarios, in order (the last one kills the initiator). */
export const REKEY: readonly Scenario[] = [
  {
    name: "Quick Mode rekey by the peer (rekey_time 6 s): new SPIs agree, old SAs deleted",
    fn: async (L) => {
      await L.initiator.initiate("rk-qm");
      const before = await assertAgreement(L.initiator, L.responder, QM);
      const old = before.children.get("rk-qm")!;
      await L.initiator.waitForSas(
        (sas) =>
          sas.flatMap((s) => s.children).some((c) =>
            c.name === "rk-qm" && c.state === "INSTALLED" && c.spiIn !== old.spiIn
          ) || undefined,
        { timeoutMs: 20_000, what: "a rekeyed rk-qm CHILD_SA" },
      );
      const after = await assertAgreement(L.initiator, L.responder, QM);
      const now = after.children.get("rk-qm")!;
      assert.notEqual(now.spiOut, old.spiOut);
      assert.equal(after.ike.initiatorSpi, before.ike.initiatorSpi, "same Phase 1");
      await pingBothWays(L, undefined, undefined, IN_FLIGHT);
      // strongSwan deletes the rekeyed SA a little later; the responder follows.
      await waitEspGone(L.responder, [old.spiIn, old.spiOut], 15_000);
      await pingBothWays(L, undefined, undefined, IN_FLIGHT);
      const current = (await L.initiator.childSas()).filter((c) => c.name === "rk-qm");
      await tearDown(
        L,
        "rekey-qm",
        after.ike.initiatorSpi,
        current.flatMap((c) => [c.spiIn, c.spiOut]),
      );
    },
  },
  {
    name: "Main Mode rekey by the peer: new Phase 1 agrees, CHILD_SA survives the old one's Delete",
    fn: async (L) => {
      const exp = {
        connection: "rekey-mm",
        peer: "rekey",
        ike: "aes128-sha256-modp2048",
        children: { "rk-mm": { transform: "aes128gcm16" } },
      };
      await L.initiator.initiate("rk-mm");
      const before = await assertAgreement(L.initiator, L.responder, exp);
      const child = before.children.get("rk-mm")!;
      // rekey_time 6 s: a new Main Mode, which adopts the CHILD_SA.
      await L.initiator.waitForSas(
        (sas) =>
          sas.some((s) =>
            s.name === "rekey-mm" && s.state === "ESTABLISHED" &&
            s.initiatorSpi !== before.ike.initiatorSpi && s.children.length > 0
          ) || undefined,
        { timeoutMs: 15_000, what: "a new rekey-mm Phase 1 holding the CHILD_SA" },
      );
      const fresh = await assertAgreement(L.initiator, L.responder, exp);
      assert.notEqual(fresh.ike.initiatorSpi, before.ike.initiatorSpi);
      assert.equal(fresh.children.get("rk-mm")?.spiIn, child.spiIn, "the CHILD_SA is kept");
      await pingBothWays(L);
      // A Quick Mode on the new Phase 1 (its keys and IV chain) rekeys the CHILD_SA.
      await L.initiator.rekey({ child: "rk-mm" });
      await L.initiator.waitForSas(
        (sas) =>
          sas.flatMap((s) => s.children).some((c) =>
            c.name === "rk-mm" && c.state === "INSTALLED" && c.spiIn !== child.spiIn
          ) || undefined,
        { what: "rk-mm rekeyed on the new Phase 1" },
      );
      await assertAgreement(L.initiator, L.responder, exp);
      // The old Phase 1 reaches its hard lifetime (14 s) and is deleted; SAs and traffic stay.
      await waitIkeGone(L.responder, before.ike.initiatorSpi, 20_000);
      await pingBothWays(L);
      const current = await initiatorIke(L.initiator, "rekey-mm");
      assert.ok(current, "a Phase 1 remains");
      const children = (await L.initiator.childSas()).filter((c) => c.name === "rk-mm");
      await tearDown(
        L,
        "rekey-mm",
        current.initiatorSpi,
        children.flatMap((c) => [c.spiIn, c.spiOut]),
      );
    },
  },
  {
    name: "DPD: R-U-THERE answered; the peer vanishes (SIGKILL) and is declared dead",
    fn: async (L) => {
      await L.initiator.initiate("rk-dpd");
      const a = await assertAgreement(L.initiator, L.responder, {
        connection: "rekey-dpd",
        peer: "rekey",
        ike: "aes128-sha256-modp2048",
        children: { "rk-dpd": { transform: "aes128gcm16" } },
      });
      const mark = (await L.initiator.log()).length;
      // The initiator's R-U-THERE (every 2 s of silence) gets an ACK.
      await waitFor(async () => {
        const log = (await L.initiator.log()).slice(mark);
        return /parsed INFORMATIONAL_V1 request \d+ \[ HASH N\(DPD_ACK\) \]/.test(log) ||
          undefined;
      }, { timeoutMs: 10_000, what: "an R-U-THERE-ACK at the initiator" });
      const child = a.children.get("rk-dpd")!;
      await L.initiator.kill();
      // The responder hears nothing for 3 s, sends R-U-THERE, gives up after 9 s more.
      await waitIkeGone(L.responder, a.ike.initiatorSpi, 30_000);
      await waitEspGone(L.responder, [child.spiIn, child.spiOut]);
      await L.responder.waitForLog(/dead|DPD/i, { timeoutMs: 1000 });
    },
  },
];
