/**
 * The update lock: an exclusive flock on `<stateDir>/update/lock`, so an install, a start
 * decision and `mark-good`/`rollback` never interleave. The kernel drops it when the holder
 * dies, so a killed installer never leaves the device locked.
 * @module
 */

import { join } from "node:path";

/** Runs `fn` holding the update lock of `stateDir`. */
export async function withUpdateLock<T>(stateDir: string, fn: () => Promise<T> | T): Promise<T> {
  Deno.mkdirSync(join(stateDir, "update"), { recursive: true, mode: 0o700 });
  const f = Deno.openSync(join(stateDir, "update", "lock"), {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  try {
    await f.lock(true);
    return await fn();
  } finally {
    f.close();
  }
}
