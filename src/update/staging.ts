/**
 * Writing verified payloads into a staging directory (`slots/.staging`) that becomes a slot only
 * by a rename once every payload's hash matched. Each file is fsynced when complete and every
 * directory before the rename, so a renamed slot is complete on disk.
 * @module
 */

import { dirname, join } from "node:path";
import { syncDir } from "../config/atomic.ts";
import type { PayloadEntry } from "./manifest.ts";
import type { PayloadSink } from "./stream.ts";

/** Removes `path` recursively if it exists. */
export function removeTree(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** A sink writing payloads below `root` (which it creates afresh). */
export class StagingSink implements PayloadSink {
  readonly #root: string;
  readonly #dirs = new Set<string>();
  #file: Deno.FsFile | undefined;

  /** Creates an empty staging directory `root` (removing any leftover). */
  constructor(root: string) {
    this.#root = root;
    removeTree(root);
    Deno.mkdirSync(root, { recursive: true, mode: 0o755 });
    this.#dirs.add(root);
  }

  /** Opens the file for `entry` (names were validated with the manifest). */
  begin(entry: PayloadEntry): void {
    const path = join(this.#root, entry.name);
    const dir = dirname(path);
    if (!this.#dirs.has(dir)) {
      Deno.mkdirSync(dir, { recursive: true, mode: 0o755 });
      for (let d = dir; d.length > this.#root.length; d = dirname(d)) this.#dirs.add(d);
    }
    this.#file = Deno.openSync(path, {
      write: true,
      create: true,
      truncate: true,
      mode: entry.mode,
    });
    Deno.chmodSync(path, entry.mode);
  }

  /** Appends to the current file. */
  write(bytes: Uint8Array): void {
    const f = this.#file as Deno.FsFile;
    let off = 0;
    while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
  }

  /** fsyncs and closes the current file. */
  end(_entry: PayloadEntry): void {
    const f = this.#file as Deno.FsFile;
    this.#file = undefined;
    try {
      f.syncSync();
    } finally {
      f.close();
    }
  }

  /** Writes an extra file (the manifest copy), fsynced. */
  extra(name: string, data: Uint8Array): void {
    const path = join(this.#root, name);
    Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    for (let d = dirname(path); d.length > this.#root.length; d = dirname(d)) this.#dirs.add(d);
    const f = Deno.openSync(path, { write: true, create: true, truncate: true, mode: 0o644 });
    try {
      let off = 0;
      while (off < data.length) off += f.writeSync(data.subarray(off));
      f.syncSync();
    } finally {
      f.close();
    }
  }

  /** fsyncs every directory, deepest first. */
  syncDirs(): void {
    for (const d of [...this.#dirs].sort((a, b) => b.length - a.length)) syncDir(d);
  }

  /** Closes an open file after a failure. */
  abort(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}
