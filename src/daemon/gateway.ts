/**
 * The daemon's core: owns the running config (from the store), commits candidates (validate,
 * write a revision, apply only what changed), runs `commit confirmed` timers (persisted, so a
 * restart inside the window still rolls back), and answers the shell's questions. Commits are
 * serialized: the console and socket sessions never interleave.
 * @module
 */

import { dataPathOffloadLines } from "../crypto/selftest.ts";
import { parse as parseToml } from "smol-toml";
import type { Config } from "../config/schema.ts";
import { type RawTree, validateTree } from "../config/parse.ts";
import { pskIssues } from "../config/load.ts";
import { resolvePsk } from "../config/secrets.ts";
import { toToml } from "../config/serialize.ts";
import { formatIssue } from "../config/issues.ts";
import { type Revision, sha256Hex } from "../config/store.ts";
import type { ConfigStore } from "../config/store.ts";
import type { Logger } from "../log.ts";
import type {
  CommitOptions,
  CommitOutcome,
  DropCount,
  EspSaView,
  IkeSaView,
  PeerView,
  PkiCertView,
  RevisionView,
  ShellHost,
} from "../shell/host.ts";
import {
  type ConfigChanges,
  describeChanges,
  diffConfigs,
  type PeerSecrets,
} from "./config_diff.ts";
import type { GatewayServices } from "./services.ts";
import { type PendingConfirm, readPendingConfirm, writePendingConfirm } from "./confirm_state.ts";

/** How the gateway is built. */
export interface GatewayOptions {
  /** The revision store. */
  readonly store: ConfigStore;
  /** State dir (for the confirm state). */
  readonly stateDir: string;
  /** Directory relative `psk_file` paths are taken from. */
  readonly baseDir: string;
  /** The logger (its level follows `gateway.log_level`). */
  readonly log: Logger;
  /** IKE and ESP. */
  readonly services: GatewayServices;
  /** Version lines for `show version`. */
  readonly version: readonly string[];
  /** Self-test report lines. */
  readonly selftest: () => readonly string[];
  /** `show crypto` lines (default: the self-test report). */
  readonly crypto?: () => readonly string[];
  /** Clock (ms), for tests. */
  readonly now?: () => number;
  /** Milliseconds per minute of `commit confirmed N` (tests shorten it; default 60000). */
  readonly minuteMs?: number;
  /** Called when the log level or syslog setting must change. */
  readonly onLogSettings?: (level: Config["gateway"]["log_level"], syslog: boolean) => void;
}

/** A config file offered at start (`run --config FILE`). */
export interface StartupFile {
  /** Path, for the log and revision note. */
  readonly path: string;
  /** Its text. */
  readonly text: string;
}

/** A validated config with its tree, text and resolved keys. */
interface Loaded {
  readonly config: Config;
  readonly tree: RawTree;
  readonly text: string;
  readonly secrets: PeerSecrets;
}

const EMPTY: Loaded = (() => {
  const r = validateTree({});
  if (!r.ok) throw new Error("the empty config must be valid");
  return { config: r.config, tree: {}, text: "", secrets: new Map() };
})();

/** The gateway: running config, commits, confirm timers, shell host. */
export class Gateway implements ShellHost {
  readonly #o: GatewayOptions;
  readonly #now: () => number;
  #running: Loaded = EMPTY;
  #revision = 0;
  #pending: PendingConfirm | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #listeners = new Set<(line: string) => void>();
  #closed = false;

  /** Creates the gateway; call {@link start} next. */
  constructor(opts: GatewayOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Validates a tree into a loaded config, or the problems as lines. */
  #load(tree: RawTree): Loaded | string[] {
    const text = toToml(tree);
    let reparsed: RawTree;
    try {
      reparsed = parseToml(text) as RawTree;
    } catch (err) {
      return [`config does not serialize: ${err instanceof Error ? err.message : String(err)}`];
    }
    const r = validateTree(reparsed);
    if (!r.ok) return r.issues.map((i) => formatIssue(i));
    const problems = pskIssues(r.config, this.#o.baseDir);
    if (problems.length > 0) return problems.map((i) => formatIssue(i));
    const secrets = new Map<string, Uint8Array>();
    for (const p of r.config.peer) {
      const k = resolvePsk(p, this.#o.baseDir);
      if (k.ok) secrets.set(p.name, k.psk);
    }
    return { config: r.config, tree: reparsed, text, secrets };
  }

  #loadText(text: string): Loaded | string[] {
    try {
      return this.#load(parseToml(text) as RawTree);
    } catch (err) {
      return [`TOML: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`];
    }
  }

  /**
   * Picks the running config: `file` when it is new or changed since its last import (stored
   * as a new revision), else the newest good revision. Resumes a pending commit confirmed.
   * Throws when `file` is given, changed and invalid.
   */
  async start(file?: StartupFile): Promise<void> {
    const { store, log } = this.#o;
    let chosen: { loaded: Loaded; revision: Revision } | undefined;
    if (file !== undefined) {
      const sha = sha256Hex(file.text);
      if (sha !== store.lastImportSha()) {
        const loaded = this.#loadText(file.text);
        if (Array.isArray(loaded)) throw new Error(`${file.path}: ${loaded.join("; ")}`);
        const rev = store.commit(loaded.text, "file", `imported ${file.path}`, sha);
        log.info("config file imported", { file: file.path, revision: rev.number });
        chosen = { loaded, revision: rev };
      }
    }
    if (chosen === undefined) {
      for (const rev of store.list()) {
        const loaded = this.#loadText(rev.text);
        if (!Array.isArray(loaded)) {
          chosen = { loaded, revision: rev };
          break;
        }
        log.error("CONFIG REVISION INVALID: skipped, trying an older one", {
          revision: rev.number,
          reason: loaded.join("; "),
        });
      }
    }
    if (chosen !== undefined) {
      this.#revision = chosen.revision.number;
      await this.#apply(chosen.loaded, "start");
      log.info("running config", {
        revision: this.#revision,
        peers: chosen.loaded.config.peer.length,
      });
    } else {
      await this.#apply(EMPTY, "start");
      log.warn("no config: running with no peers until one is committed");
    }
    this.#resumeConfirm();
  }

  async #apply(next: Loaded, why: string): Promise<string[]> {
    const prev = this.#running === EMPTY && why === "start" ? undefined : this.#running;
    const changes: ConfigChanges = diffConfigs(
      prev?.config,
      next.config,
      prev?.secrets,
      next.secrets,
    );
    for (const p of next.config.peer) if (p.psk !== undefined) this.#o.log.addSecret(p.psk);
    this.#running = next;
    this.#o.onLogSettings?.(next.config.gateway.log_level, next.config.gateway.syslog);
    const extra = await this.#o.services.apply(next.config, next.secrets, changes);
    return [...describeChanges(changes), ...extra];
  }

  #resumeConfirm(): void {
    const p = readPendingConfirm(this.#o.stateDir);
    if (p === undefined) return;
    if (p.revision !== this.#revision) {
      writePendingConfirm(this.#o.stateDir, undefined);
      return;
    }
    this.#pending = p;
    this.#o.log.warn("commit confirmed pending from before the restart", {
      revision: p.revision,
      rollback_to: p.rollbackTo,
      deadline: new Date(p.deadline).toISOString(),
    });
    this.#arm();
  }

  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const p = this.#pending;
    if (p === undefined || this.#closed) return;
    const delay = Math.max(0, p.deadline - this.#now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#serialized(() => this.#expire());
    }, delay);
  }

  async #expire(): Promise<void> {
    const p = this.#pending;
    if (p === undefined || p.revision !== this.#revision) return;
    const { store, log } = this.#o;
    const target = store.list().find((r) => r.number === p.rollbackTo);
    this.#pending = undefined;
    writePendingConfirm(this.#o.stateDir, undefined);
    if (target === undefined) {
      log.error("COMMIT CONFIRMED EXPIRED but the revision to roll back to is gone", {
        rollback_to: p.rollbackTo,
      });
      return;
    }
    const loaded = this.#loadText(target.text);
    if (Array.isArray(loaded)) {
      log.error("COMMIT CONFIRMED EXPIRED but the old revision no longer validates", {
        rollback_to: p.rollbackTo,
        reason: loaded.join("; "),
      });
      return;
    }
    const rev = store.commit(loaded.text, "confirm-timeout", `rolled back to ${p.rollbackTo}`);
    this.#revision = rev.number;
    await this.#apply(loaded, "rollback");
    const msg = `commit confirmed expired: rolled back to revision ${p.rollbackTo} ` +
      `(now revision ${rev.number})`;
    log.warn(msg, { revision: rev.number });
    for (const l of this.#listeners) l(msg);
  }

  /** Runs `fn` after every earlier commit finished. */
  #serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Subscribes to notices for sessions (automatic rollbacks); returns the unsubscribe. */
  onNotice(fn: (line: string) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** The running validated config. */
  config(): Config {
    return this.#running.config;
  }

  /** Stops the confirm timer and the services (Deletes to peers). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#queue;
    await this.#o.services.shutdown();
  }

  // ---- ShellHost ----

  /** {@inheritDoc ShellHost.running} */
  running(): { tree: RawTree; revision: number } {
    return { tree: this.#running.tree, revision: this.#revision };
  }

  /** {@inheritDoc ShellHost.revisions} */
  revisions(): RevisionView[] {
    return this.#o.store.list().map((r) => ({
      number: r.number,
      time: r.time,
      by: r.by,
      note: r.note,
    }));
  }

  /** {@inheritDoc ShellHost.revisionTree} */
  revisionTree(back: number): RawTree | undefined {
    const rev = this.#o.store.back(back);
    if (rev === undefined) return undefined;
    try {
      return parseToml(rev.text) as RawTree;
    } catch {
      return undefined;
    }
  }

  /** {@inheritDoc ShellHost.commit} */
  commit(tree: RawTree, opts: CommitOptions): Promise<CommitOutcome> {
    return this.#serialized(() => this.#commit(tree, opts));
  }

  async #commit(tree: RawTree, opts: CommitOptions): Promise<CommitOutcome> {
    if (this.#closed) return { ok: false, errors: ["the daemon is shutting down"] };
    const loaded = this.#load(tree);
    if (Array.isArray(loaded)) return { ok: false, errors: loaded };
    if (opts.checkOnly === true) {
      return { ok: true, revision: this.#revision, summary: ["configuration check succeeds"] };
    }
    const unchanged = loaded.text === this.#running.text;
    if (!unchanged && opts.baseRevision !== this.#revision) {
      return {
        ok: false,
        errors: [
          `the running config changed since this candidate was made (revision ${opts.baseRevision} -> ${this.#revision})`,
          "use 'compare', then 'discard' and redo the change",
        ],
      };
    }
    const summary: string[] = [];
    if (unchanged && opts.confirmMinutes === undefined) {
      if (this.#pending !== undefined) {
        this.#pending = undefined;
        writePendingConfirm(this.#o.stateDir, undefined);
        this.#arm();
        this.#o.log.info("commit confirmed: confirmed", { revision: this.#revision, by: opts.by });
        return {
          ok: true,
          revision: this.#revision,
          summary: ["commit confirmed; automatic rollback cancelled"],
        };
      }
      return { ok: true, revision: this.#revision, summary: ["no changes to commit"] };
    }
    if (unchanged && this.#pending === undefined) {
      return { ok: true, revision: this.#revision, summary: ["no changes to commit"] };
    }
    const before = this.#revision;
    if (!unchanged) {
      const note = opts.confirmMinutes === undefined
        ? "commit"
        : `commit confirmed ${opts.confirmMinutes}`;
      const rev = this.#o.store.commit(loaded.text, opts.by, note);
      this.#revision = rev.number;
      summary.push(`commit complete: revision ${rev.number}`);
      summary.push(...await this.#apply(loaded, "commit"));
      this.#o.log.info("config committed", { revision: rev.number, by: opts.by, note });
    }
    if (opts.confirmMinutes !== undefined) {
      const rollbackTo = this.#pending?.rollbackTo ?? before;
      const deadline = this.#now() + opts.confirmMinutes * (this.#o.minuteMs ?? 60_000);
      this.#pending = { revision: this.#revision, rollbackTo, deadline };
      writePendingConfirm(this.#o.stateDir, this.#pending);
      this.#arm();
      const at = new Date(deadline).toISOString().replace(/\.\d+Z$/, "Z");
      summary.push(`rolls back to revision ${rollbackTo} at ${at} unless 'commit' confirms it`);
    } else if (this.#pending !== undefined) {
      this.#pending = undefined;
      writePendingConfirm(this.#o.stateDir, undefined);
      this.#arm();
      summary.push("earlier commit confirmed is now confirmed");
    }
    return { ok: true, revision: this.#revision, summary };
  }

  /** {@inheritDoc ShellHost.pendingConfirm} */
  pendingConfirm(): { deadline: Date } | undefined {
    return this.#pending === undefined ? undefined : { deadline: new Date(this.#pending.deadline) };
  }

  /** {@inheritDoc ShellHost.peers} */
  peers(): PeerView[] {
    return this.#o.services.peers(this.#running.config);
  }

  /** {@inheritDoc ShellHost.ikeSas} */
  ikeSas(): IkeSaView[] {
    return this.#o.services.ikeSas();
  }

  /** {@inheritDoc ShellHost.espSas} */
  espSas(): EspSaView[] {
    return this.#o.services.espSas();
  }

  /** {@inheritDoc ShellHost.refresh} */
  async refresh(): Promise<void> {
    await this.#o.services.refresh?.();
  }

  /** {@inheritDoc ShellHost.clearIkeSa} */
  clearIkeSa(peer: string): Promise<string> {
    return this.#o.services.clearIkeSa(peer);
  }

  /** {@inheritDoc ShellHost.logLines} */
  logLines(n: number): string[] {
    return this.#o.log.recent(n);
  }

  /** {@inheritDoc ShellHost.drops} */
  drops(): readonly DropCount[] {
    return this.#o.services.drops?.() ?? [];
  }

  /** {@inheritDoc ShellHost.pki} */
  pki(): readonly PkiCertView[] {
    return this.#o.services.pkiView?.() ?? [];
  }

  /** {@inheritDoc ShellHost.version} */
  version(): readonly string[] {
    return [...this.#o.version, `services: ${this.#o.services.description}`];
  }

  /** {@inheritDoc ShellHost.selftest} */
  selftest(): readonly string[] {
    return this.#o.selftest();
  }

  /** {@inheritDoc ShellHost.crypto} */
  crypto(): readonly string[] {
    const lines = [...(this.#o.crypto ?? this.#o.selftest)()];
    const routes = this.#o.services.cryptoRoutes?.();
    if (routes === undefined) return lines;
    return [...dataPathOffloadLines(routes), "", ...lines];
  }
}
