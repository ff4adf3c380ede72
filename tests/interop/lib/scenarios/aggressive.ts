/**
 * IKEv1 Aggressive Mode with PSK and FQDN identities (RFC 2409 §5.4): the responder picks the
 * peer by the initiator's ID (the peer is configured with remote %any), both sides show the
 * FQDNs, and the SA agrees and carries traffic.
 * @module
 */

import assert from "node:assert/strict";
import { assertAgreement } from "../agree.ts";
import { FQDN } from "../ikev1_lab.ts";
import type { Scenario } from "../suite.ts";
import { pingBothWays, tearDown } from "./main_mode.ts";

/** The Aggressive Mode scenarios, in order. */
export const AGGRESSIVE: readonly Scenario[] = [
  {
    name: "Aggressive Mode, FQDN IDs, aes256-sha256-modp2048; Quick Mode aes128gcm16",
    fn: async (L) => {
      const out = await L.initiator.initiate("ag");
      assert.match(out, /initiating Aggressive Mode IKE_SA/);
      const a = await assertAgreement(L.initiator, L.responder, {
        connection: "office-ag",
        peer: "office",
        ike: "aes256-sha256-modp2048",
        children: { ag: { transform: "aes128gcm16" } },
      });
      assert.equal(a.ike.localId, FQDN.office);
      assert.equal(a.ike.remoteId, FQDN.branch, "the responder identified itself by FQDN");
      await pingBothWays(L);
      const c = a.children.get("ag")!;
      await tearDown(L, "office-ag", a.ike.initiatorSpi, [c.spiIn, c.spiOut]);
    },
  },
];
