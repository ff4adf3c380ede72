/**
 * The config store in the state dir: every commit is a new numbered revision file
 * (`config/rev-000000042.toml`) written atomically, carrying a header with its number, time,
 * author, note, length and SHA-256. The newest {@link KEEP} are kept. On open, temporaries are
 * swept and every revision is verified; a torn or corrupt one is set aside (`.corrupt`) with a
 * loud log line, and the newest good revision is the running config. `imported.json` remembers
 * which config file content was imported last, so an unchanged file is not imported again.
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { join } from "../path.ts";
import type { Logger } from "../log.ts";
import { sweepTemporaries, syncDir, writeFileAtomic } from "./atomic.ts";

/** Revisions kept. */
export const KEEP = 20;

const HEADER = "#branchgate-revision ";
const IMPORT_MARK = "imported.json";
const NAME = /^rev-([0-9]{9})\.toml$/;

/** What a revision records besides its text. */
export interface RevisionMeta {
  /** Revision number, increasing. */
  readonly number: number;
  /** ISO time of the commit. */
  readonly time: string;
  /** Who committed ("shell", "console", "file", "confirm-timeout", …). */
  readonly by: string;
  /** Free text ("commit confirmed 5", "imported /etc/branchgate.toml"). */
  readonly note: string;
  /** SHA-256 of the config file a "file" revision was imported from. */
  readonly fileSha256?: string;
}

/** A verified revision. */
export interface Revision extends RevisionMeta {
  /** The config as TOML. */
  readonly text: string;
}

/** Header fields as stored (JSON on the first line). */
interface Header extends RevisionMeta {
  readonly sha256: string;
  readonly length: number;
}

/** Hex SHA-256 of bytes or text. */
export function sha256Hex(data: Uint8Array | string): string {
  return bytesToHex(sha256(typeof data === "string" ? new TextEncoder().encode(data) : data));
}

/** The file name of revision `n`. */
export function revisionName(n: number): string {
  return `rev-${String(n).padStart(9, "0")}.toml`;
}

/** Encodes a revision file. */
export function encodeRevision(meta: RevisionMeta, text: string): Uint8Array {
  const body = new TextEncoder().encode(text);
  const header: Header = { ...meta, sha256: sha256Hex(body), length: body.length };
  const head = new TextEncoder().encode(HEADER + JSON.stringify(header) + "\n");
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** Decodes and verifies a revision file; a string says why it is not a whole revision. */
export function decodeRevision(bytes: Uint8Array, expectNumber: number): Revision | string {
  const nl = bytes.indexOf(0x0a);
  if (nl < 0) return "no header line";
  let header: Partial<Header>;
  try {
    const line = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, nl));
    if (!line.startsWith(HEADER)) return "bad header";
    header = JSON.parse(line.slice(HEADER.length)) as Partial<Header>;
  } catch {
    return "unreadable header";
  }
  if (header === null || typeof header !== "object") return "bad header";
  const { number, time, by, note, sha256, length } = header;
  if (number !== expectNumber) return `header says revision ${String(number)}`;
  if (typeof time !== "string" || typeof by !== "string" || typeof note !== "string") {
    return "incomplete header";
  }
  if (typeof sha256 !== "string" || typeof length !== "number") return "no checksum";
  const body = bytes.subarray(nl + 1);
  if (body.length !== length) return `length ${body.length}, header says ${length}`;
  if (sha256Hex(body) !== sha256) return "checksum mismatch";
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    return "not UTF-8";
  }
  const fileSha = header.fileSha256;
  return {
    number,
    time,
    by,
    note,
    text,
    ...(typeof fileSha === "string" ? { fileSha256: fileSha } : {}),
  };
}

/** The revision store under `<stateDir>/config`. */
export class ConfigStore {
  readonly #dir: string;
  readonly #log: Logger;
  #revisions: Revision[] = [];
  #now: () => Date;

  private constructor(dir: string, log: Logger, now: () => Date) {
    this.#dir = dir;
    this.#log = log;
    this.#now = now;
  }

  /**
   * Opens (creating, mode 0700) the store in `stateDir`, sweeps temporaries and verifies every
   * revision. Corrupt files are renamed to `*.corrupt` and logged at error level.
   */
  static open(stateDir: string, log: Logger, now: () => Date = () => new Date()): ConfigStore {
    const dir = join(stateDir, "config");
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const store = new ConfigStore(dir, log, now);
    const swept = sweepTemporaries(dir);
    if (swept > 0) log.warn("removed unfinished revision temporaries", { count: swept });
    store.#scan();
    return store;
  }

  #scan(): void {
    const found: Revision[] = [];
    let setAside = false;
    for (const e of Deno.readDirSync(this.#dir)) {
      const m = NAME.exec(e.name);
      if (!e.isFile || m === null) continue;
      const path = join(this.#dir, e.name);
      const r = decodeRevision(Deno.readFileSync(path), Number(m[1]));
      if (typeof r === "string") {
        this.#log.error("CONFIG REVISION CORRUPT: set aside, using the newest good revision", {
          file: e.name,
          reason: r,
        });
        Deno.renameSync(path, `${path}.corrupt`);
        setAside = true;
      } else {
        found.push(r);
      }
    }
    if (setAside) syncDir(this.#dir);
    found.sort((a, b) => b.number - a.number);
    this.#revisions = found;
  }

  /** The directory holding the revisions. */
  get dir(): string {
    return this.#dir;
  }

  /** Good revisions, newest first (index 0 is the running config). */
  list(): readonly Revision[] {
    return this.#revisions;
  }

  /** The running revision, if any. */
  newest(): Revision | undefined {
    return this.#revisions[0];
  }

  /** The revision `back` commits before the running one (0 = running). */
  back(back: number): Revision | undefined {
    return Number.isInteger(back) && back >= 0 ? this.#revisions[back] : undefined;
  }

  /**
   * SHA-256 of the config file last imported (kept in `imported.json`, apart from the revisions,
   * so it survives pruning), or undefined.
   */
  lastImportSha(): string | undefined {
    try {
      const j = JSON.parse(Deno.readTextFileSync(join(this.#dir, IMPORT_MARK))) as unknown;
      const sha = (j as { sha256?: unknown } | null)?.sha256;
      if (typeof sha === "string") return sha;
    } catch {
      // no marker (or a torn one): fall back to the revisions
    }
    return this.#revisions.find((r) => r.fileSha256 !== undefined)?.fileSha256;
  }

  /**
   * Writes `text` as the next revision (durable when this returns), then prunes to {@link KEEP}.
   */
  commit(text: string, by: string, note: string, fileSha256?: string): Revision {
    const number = (this.#revisions[0]?.number ?? 0) + 1;
    const meta: RevisionMeta = {
      number,
      time: this.#now().toISOString(),
      by,
      note,
      ...(fileSha256 !== undefined ? { fileSha256 } : {}),
    };
    writeFileAtomic(join(this.#dir, revisionName(number)), encodeRevision(meta, text));
    const rev: Revision = { ...meta, text };
    this.#revisions.unshift(rev);
    if (fileSha256 !== undefined) {
      const mark = JSON.stringify({ sha256: fileSha256, revision: number }) + "\n";
      writeFileAtomic(join(this.#dir, IMPORT_MARK), new TextEncoder().encode(mark));
    }
    this.#prune();
    return rev;
  }

  #prune(): void {
    const extra = this.#revisions.splice(KEEP);
    for (const r of extra) {
      try {
        Deno.removeSync(join(this.#dir, revisionName(r.number)));
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
    if (extra.length > 0) syncDir(this.#dir);
  }
}
