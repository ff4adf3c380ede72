/**
 * A pending `commit confirmed`, persisted in the state dir (`confirm.json`, written atomically)
 * so a daemon restart inside the window still rolls back when the deadline passes.
 * @module
 */

import { join } from "../path.ts";
import { writeFileAtomic } from "../config/atomic.ts";

/** The pending confirmation. */
export interface PendingConfirm {
  /** The revision that awaits confirmation. */
  readonly revision: number;
  /** The revision to go back to. */
  readonly rollbackTo: number;
  /** When, as epoch milliseconds. */
  readonly deadline: number;
}

const FILE = "confirm.json";

/** Reads the pending confirmation; undefined when none or unreadable. */
export function readPendingConfirm(stateDir: string): PendingConfirm | undefined {
  try {
    const j = JSON.parse(Deno.readTextFileSync(join(stateDir, FILE))) as Partial<PendingConfirm>;
    if (
      typeof j.revision === "number" && typeof j.rollbackTo === "number" &&
      typeof j.deadline === "number"
    ) return { revision: j.revision, rollbackTo: j.rollbackTo, deadline: j.deadline };
  } catch {
    // none, or torn: treated as none
  }
  return undefined;
}

/** Persists (or, with undefined, removes) the pending confirmation. */
export function writePendingConfirm(stateDir: string, p: PendingConfirm | undefined): void {
  const path = join(stateDir, FILE);
  if (p === undefined) {
    try {
      Deno.removeSync(path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return;
  }
  writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(p) + "\n"));
}
