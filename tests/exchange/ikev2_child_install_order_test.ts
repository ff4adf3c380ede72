/**
 * RFC 7296 §2.8 in action order, two IKEv2 engines of this project: the responder of IKE_AUTH
 * and of a CREATE_CHILD_SA rekey installs its new SAs before its answer goes out (it "MUST be
 * prepared to accept messages on an SA before sending its response"), and the initiator, which
 * "MAY begin sending on an SA as soon as it processes the response", puts its new outbound SA
 * into service at once (no standby as the IKEv1 Quick Mode initiator needs).
 */

import assert from "node:assert/strict";
import type { IkeAction } from "../../src/ike/actions.ts";
import { decodeV2Message } from "../../src/ike/message/v2/message.ts";
import { ExchangeTypeV2 } from "../../src/ike/message/v2/registry.ts";
import { v2Pair } from "./pair/v2.ts";
import { branchPolicy, hubPolicy, installs } from "./pair/wire.ts";

const V2 = { ike_version: 2 };

/** Index in `log` (from `from`) of the first response of `exchange`. */
function responseAt(log: readonly IkeAction[], exchange: number, from = 0): number {
  return log.findIndex((a, i) => {
    if (i < from || a.kind !== "send") return false;
    const m = decodeV2Message(a.datagram);
    return m.ok && m.value.header.exchangeType === exchange && (m.value.header.flags & 0x20) !== 0;
  });
}

/** Index in `log` (from `from`) of the first inbound SA install. */
function inboundInstallAt(log: readonly IkeAction[], from = 0): number {
  return log.findIndex((a, i) => i >= from && a.kind === "installSa" && a.spec.direction === "in");
}

Deno.test("IKEv2 responder: its new inbound SA is in before the IKE_AUTH and CREATE_CHILD_SA answers", () => {
  const w = v2Pair(
    "install order",
    branchPolicy({ ...V2, esp_lifetime: 600, rekey_margin: 60 }),
    hubPolicy(V2),
  );
  w.dial();
  const auth = responseAt(w.hub.log, ExchangeTypeV2.IKE_AUTH);
  const first = inboundInstallAt(w.hub.log);
  assert.ok(auth > 0 && first >= 0, "IKE_AUTH answered and a child installed");
  assert.ok(first < auth, `inbound SA at ${first}, IKE_AUTH answer at ${auth}`);

  const mark = { hub: w.hub.log.length, branch: w.branch.log.length };
  const child = w.branch.engine.childSas(w.now)[0]!;
  const soft = {
    kind: "soft" as const,
    spi: child.inboundSpi,
    direction: "in" as const,
    childId: child.childId,
  };
  w.run("branch", w.branch.engine.espLifetime(soft, w.now));
  const answer = responseAt(w.hub.log, ExchangeTypeV2.CREATE_CHILD_SA, mark.hub);
  const rekeyed = inboundInstallAt(w.hub.log, mark.hub);
  assert.ok(answer > 0 && rekeyed > 0, "CREATE_CHILD_SA answered and the new child installed");
  assert.ok(rekeyed < answer, `inbound SA at ${rekeyed}, CREATE_CHILD_SA answer at ${answer}`);
  // The initiator sends on the new pair as soon as it has the answer.
  const ours = installs(w.branch.log.slice(mark.branch)).filter((s) => s.direction === "out");
  assert.equal(ours.length, 1);
  assert.equal(ours[0]!.activateOn, undefined);
});
