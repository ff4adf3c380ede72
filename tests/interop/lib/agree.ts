/**
 * Checks that the strongSwan initiator and the responder under test agree on one IKE SA and
 * its CHILD_SAs: cookies, SPIs (each side's inbound is the other's outbound) and algorithms.
 * @module
 */

import assert from "node:assert/strict";
import { espTransform, ikeProposal, pfsGroup } from "./alg_names.ts";
import type { ChildSaInfo, IkeSaInfo } from "./list_sas.ts";
import type { Responder, ResponderIkeSa } from "./responder.ts";
import type { StrongswanPeer } from "./strongswan.ts";
import { waitFor } from "./wait.ts";

/** What the scenario expects to have been negotiated. */
export interface Expected {
  /** Initiator connection name. */
  readonly connection: string;
  /** Responder peer name. */
  readonly peer: string;
  /** IKE version (default 1). */
  readonly version?: 1 | 2;
  /** IKE algorithms, e.g. "aes256-sha256-modp2048". */
  readonly ike: string;
  /** Children by name with their ESP transform and PFS group (undefined: none). */
  readonly children: Readonly<Record<string, { transform: string; pfs?: string }>>;
}

/** Both sides' records of the checked SA. */
export interface Agreement {
  /** The initiator's IKE SA. */
  readonly ike: IkeSaInfo;
  /** The responder's IKE SA. */
  readonly responderIke: ResponderIkeSa;
  /** The initiator's CHILD_SAs by name (installed ones only). */
  readonly children: ReadonlyMap<string, ChildSaInfo>;
}

/** The initiator's newest established IKE SA of `connection`, if any. */
export async function initiatorIke(
  initiator: StrongswanPeer,
  connection: string,
): Promise<IkeSaInfo | undefined> {
  const sas = (await initiator.listSas()).filter((s) =>
    s.name === connection && s.state === "ESTABLISHED"
  );
  return sas.sort((a, b) => b.uniqueId - a.uniqueId)[0];
}

/**
 * Asserts agreement on the IKE SA of `exp.connection` and every expected child. Waits briefly
 * for the responder's view to catch up (it installs after sending its last message).
 */
export async function assertAgreement(
  initiator: StrongswanPeer,
  responder: Responder,
  exp: Expected,
): Promise<Agreement> {
  const ike = await initiatorIke(initiator, exp.connection);
  assert.ok(ike, `initiator has an established IKE SA '${exp.connection}'`);
  assert.equal(ike.version, exp.version ?? 1);
  assert.equal(ikeProposal(ike), exp.ike, "initiator's IKE algorithms");
  const children = new Map<string, ChildSaInfo>();
  for (const c of ike.children) if (c.state === "INSTALLED") children.set(c.name, c);
  for (const [name, want] of Object.entries(exp.children)) {
    const c = children.get(name);
    assert.ok(c, `initiator child '${name}' installed`);
    assert.equal(espTransform(c), want.transform, `initiator '${name}' transform`);
    assert.equal(pfsGroup(c), want.pfs, `initiator '${name}' PFS group`);
    assert.equal(c.encap, true, `initiator '${name}' is UDP-encapsulated`);
  }
  const responderIke = await waitFor(async () => {
    const sas = await responder.ikeSas();
    return sas.find((s) => s.initiatorSpi === ike.initiatorSpi && s.state === "ESTABLISHED");
  }, { what: `responder IKE SA ${ike.initiatorSpi}`, timeoutMs: 5000 });
  assert.equal(responderIke.responderSpi, ike.responderSpi, "responder cookie");
  assert.equal(responderIke.peer, exp.peer, "responder picked the expected peer");
  assert.equal(responderIke.proposal, exp.ike, "responder's IKE algorithms");
  const wanted = [...children.values()].filter((c) => c.name in exp.children);
  const esp = await waitFor(async () => {
    const all = await responder.espSas();
    const ok = wanted.every((c) =>
      all.some((s) => s.direction === "in" && s.spi === c.spiOut) &&
      all.some((s) => s.direction === "out" && s.spi === c.spiIn)
    );
    return ok ? all : undefined;
  }, { what: "responder ESP SAs matching the initiator's SPIs", timeoutMs: 5000 });
  for (const c of wanted) {
    for (const s of esp.filter((e) => e.spi === c.spiOut || e.spi === c.spiIn)) {
      assert.equal(s.transform, espTransform(c), `responder SA ${s.spi.toString(16)} transform`);
      assert.equal(s.peer, exp.peer, `responder SA ${s.spi.toString(16)} peer`);
    }
  }
  return { ike, responderIke, children };
}

/** Waits until the responder holds none of `spis` any more (after a Delete). */
export async function waitEspGone(
  responder: Responder,
  spis: readonly number[],
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(async () => {
    const all = await responder.espSas();
    return all.some((s) => spis.includes(s.spi)) ? undefined : true;
  }, {
    what: `responder to drop ESP SAs ${spis.map((s) => s.toString(16)).join(",")}`,
    timeoutMs,
  });
}

/** Waits until the responder holds no IKE SA with initiator cookie `spi` in any state. */
export async function waitIkeGone(
  responder: Responder,
  spi: string,
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(async () => {
    const all = await responder.ikeSas();
    return all.some((s) => s.initiatorSpi === spi) ? undefined : true;
  }, { what: `responder to drop IKE SA ${spi}`, timeoutMs });
}
