/**
 * Crash-safe file replacement: write a temporary file in the same directory, fsync it, rename
 * it over the target, fsync the directory. After a crash the target is either the old or the
 * new content, never a mix; leftover temporaries start with {@link TEMP_PREFIX}.
 * @module
 */

import { basename, dirname, join } from "../path.ts";

/** Name prefix of temporaries (swept by {@link sweepTemporaries}). */
export const TEMP_PREFIX = ".tmp-";

let counter = 0;

/** fsyncs a directory so a rename in it is durable. */
export function syncDir(dir: string): void {
  const d = Deno.openSync(dir, { read: true });
  try {
    d.syncSync();
  } finally {
    d.close();
  }
}

/** Atomically replaces `path` with `data` (mode `mode`, default 0600). */
export function writeFileAtomic(path: string, data: Uint8Array, mode = 0o600): void {
  const dir = dirname(path);
  const tmp = join(dir, `${TEMP_PREFIX}${basename(path)}.${Deno.pid}.${++counter}`);
  const f = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode });
  try {
    let off = 0;
    while (off < data.length) off += f.writeSync(data.subarray(off));
    f.syncSync();
  } catch (err) {
    f.close();
    Deno.removeSync(tmp);
    throw err;
  }
  f.close();
  Deno.renameSync(tmp, path);
  syncDir(dir);
}

/** Removes temporaries a crash left in `dir`; returns how many. */
export function sweepTemporaries(dir: string): number {
  let n = 0;
  for (const e of Deno.readDirSync(dir)) {
    if (e.isFile && e.name.startsWith(TEMP_PREFIX)) {
      Deno.removeSync(join(dir, e.name));
      n++;
    }
  }
  return n;
}
