/**
 * IKEv1 failures the responder must refuse cleanly: a wrong pre-shared key (RFC 2409 §5.4:
 * HASH_I does not verify / the encrypted message 5 does not decrypt) leaves no SA and one clear
 * log line without the key; an IKE proposal nobody configured gets NO_PROPOSAL_CHOSEN (RFC 2408
 * §3.14.1) and a log line naming what was offered; an ESP proposal mismatch in Quick Mode gets
 * NO_PROPOSAL_CHOSEN while Phase 1 stays up.
 * @module
 */

import assert from "node:assert/strict";
import { initiatorIke } from "../agree.ts";
import { PSK } from "../ikev1_lab.ts";
import type { Scenario } from "../suite.ts";
import { waitFor } from "../wait.ts";

const hex = (s: string) =>
  Array.from(new TextEncoder().encode(s), (b) => b.toString(16).padStart(2, "0")).join("");

/** Fails unless `log` is free of every test key, as text and as hex. */
function assertNoSecrets(log: string): void {
  for (const key of Object.values(PSK)) {
    assert.ok(!log.includes(key), "a pre-shared key appears in the log");
    assert.ok(!log.toLowerCase().includes(hex(key)), "a pre-shared key appears in the log (hex)");
  }
}

/**
 * The log line a wrong key must produce: branchgate names the peer and the cause on one line;
 * the strongSwan reference only says that message 5 did not decrypt.
 */
const WRONG_PSK_LINE = {
  branchgate:
    /guarded.*(pre-shared|psk|authenticat|HASH|decrypt)|(pre-shared|psk|authenticat|HASH|decrypt).*guarded/i,
  strongswan: /decryption failed/,
} as const;

/** The failure scenarios, in order. */
export const FAILURES: readonly Scenario[] = [
  {
    name: "wrong PSK: no SA on either side, one clear log line, no key in the log",
    fn: async (L) => {
      const r = await L.initiator.tryInitiate("guarded", 12);
      assert.notEqual(r.code, 0, "initiation with the wrong key must fail");
      assert.equal(await initiatorIke(L.initiator, "guarded"), undefined);
      const line = await L.responder.waitForLog(WRONG_PSK_LINE[L.responder.kind], {
        timeoutMs: 10_000,
      });
      assert.ok(line.length < 400, `one short line: ${line}`);
      const ike = await L.responder.ikeSas();
      assert.ok(!ike.some((s) => s.peer === "guarded" && s.state === "ESTABLISHED"));
      assert.ok(!(await L.responder.espSas()).some((s) => s.peer === "guarded"));
      assertNoSecrets(await L.responder.log());
      await L.initiator.swanctl(["--terminate", "--ike", "guarded", "--timeout", "5"]);
    },
  },
  {
    name: "IKE proposal mismatch: NO_PROPOSAL_CHOSEN, the offer is logged",
    fn: async (L) => {
      const mark = (await L.initiator.log()).length;
      const r = await L.initiator.tryInitiate("bad-ike", 10);
      assert.notEqual(r.code, 0);
      await waitFor(
        async () =>
          /received NO_PROPOSAL_CHOSEN error notify/.test((await L.initiator.log()).slice(mark)) ||
          undefined,
        { what: "NO_PROPOSAL_CHOSEN at the initiator" },
      );
      await L.responder.waitForLog(/aes192|AES_CBC_192/i, { timeoutMs: 5000 });
      assert.equal(await initiatorIke(L.initiator, "hq-bad-ike"), undefined);
      await L.initiator.swanctl(["--terminate", "--ike", "hq-bad-ike", "--timeout", "5"]);
    },
  },
  {
    name: "ESP proposal mismatch in Quick Mode: NO_PROPOSAL_CHOSEN, Phase 1 stays",
    fn: async (L) => {
      await L.initiator.initiateIke("hq-modp");
      const ike = await initiatorIke(L.initiator, "hq-modp");
      assert.ok(ike);
      const mark = (await L.initiator.log()).length;
      const r = await L.initiator.tryInitiate("bad-esp", 10);
      assert.notEqual(r.code, 0);
      await waitFor(
        async () =>
          /received NO_PROPOSAL_CHOSEN error notify/.test((await L.initiator.log()).slice(mark)) ||
          undefined,
        { what: "NO_PROPOSAL_CHOSEN at the initiator" },
      );
      assert.ok(!(await L.responder.espSas()).some((s) => s.peer === "hq"), "no ESP SA");
      const still = await initiatorIke(L.initiator, "hq-modp");
      assert.equal(still?.initiatorSpi, ike.initiatorSpi, "Phase 1 survives a failed Quick Mode");
      const resp = await L.responder.ikeSas();
      assert.ok(resp.some((s) => s.initiatorSpi === ike.initiatorSpi && s.state === "ESTABLISHED"));
      await L.initiator.terminate({ ike: "hq-modp" });
    },
  },
];
