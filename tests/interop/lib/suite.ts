/**
 * The IKEv1 interop suite's test wrapper: one lab per test file, scenarios as steps that run
 * in order against it, the responder chosen by `BG_INTEROP_RESPONDER` (branchgate unless set
 * to strongswan, the reference). When a step fails, every log in the lab is printed before
 * the lab is torn down.
 * @module
 */

import { BranchgateResponder } from "./branchgate_responder.ts";
import { type Ikev1Lab, responderKind, startIkev1Lab } from "./ikev1_lab.ts";
import { type Lab, withLab } from "./netns.ts";

/** One scenario: a name and its body. */
export interface Scenario {
  /** Step name. */
  readonly name: string;
  /** The scenario; throws (assertions) on failure. */
  readonly fn: (lab: Ikev1Lab) => Promise<void>;
}

/** Starts the lab of a suite with the responder of `kind`. */
export type LabStarter = (lab: Lab, kind: "branchgate" | "strongswan") => Promise<Ikev1Lab>;

/**
 * Registers one Deno test running `scenarios` in order on one lab made by `start` (root only),
 * against `kind`.
 */
export function labSuite(
  name: string,
  scenarios: readonly Scenario[],
  start: LabStarter,
  kind: "branchgate" | "strongswan" = responderKind(),
): void {
  Deno.test({
    name: `${name} (responder: ${kind})`,
    ignore: Deno.uid() !== 0,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: (t) =>
      withLab(async (lab) => {
        const L = await start(lab, kind);
        const failed: string[] = [];
        for (const s of scenarios) {
          if (!(await t.step(s.name, () => s.fn(L)))) failed.push(s.name);
        }
        if (failed.length > 0) throw new Error(`failed: ${failed.join("; ")}`);
      }),
  });
}

/**
 * Registers one Deno test running `scenarios` in order on one IKEv1 lab (root only), against
 * `kind` (default: `BG_INTEROP_RESPONDER`, else branchgate).
 */
export function ikev1Suite(
  name: string,
  scenarios: readonly Scenario[],
  kind: "branchgate" | "strongswan" = responderKind(),
): void {
  labSuite(
    name,
    scenarios,
    (lab, k) =>
      startIkev1Lab(
        lab,
        k === "branchgate" ? (l, s) => BranchgateResponder.start(l, s) : undefined,
      ),
    kind,
  );
}
