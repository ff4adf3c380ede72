/**
 * One shell session: operational and configure modes, a private candidate config, and the
 * commands of both modes. Input is one line at a time; output is lines of plain ASCII. Secrets
 * are masked in everything it prints. Bad commands give an `error:` line, never an exception.
 * @module
 */

import type { RawTree } from "../config/parse.ts";
import { deletePath, findPeer, setPath } from "../config/tree_edit.ts";
import { toToml } from "../config/serialize.ts";
import { isSecretKey } from "../config/schema_info.ts";
import { MASK } from "../log.ts";
import { expandWords, type GrammarContext, type Mode, nextWords } from "./grammar.ts";
import { completeLine, type CompletionResult, helpLines } from "./complete.ts";
import { compareText } from "./diff.ts";
import type { ShellHost } from "./host.ts";
import { tokenize } from "./tokenize.ts";
import { dropsTable, espTable, ikeTable, peersTable, pkiTable } from "./views.ts";

/** The result of one line. */
export interface ExecResult {
  /** Lines to print. */
  readonly output: readonly string[];
  /** False when the command failed. */
  readonly ok: boolean;
  /** True when the session ended (`exit` in operational mode). */
  readonly end: boolean;
}

const ok = (output: readonly string[]): ExecResult => ({ output, ok: true, end: false });
const fail = (...output: string[]): ExecResult => ({
  output: output.map((l) => `error: ${l}`),
  ok: false,
  end: false,
});

/** Secrets of `tree` masked; a secret that differs from `base`'s is marked as changed. */
function masked(tree: RawTree, base?: RawTree): RawTree {
  const out = structuredClone(tree);
  const peers = out["peer"];
  if (!Array.isArray(peers)) return out;
  for (const p of peers) {
    if (p === null || typeof p !== "object") continue;
    const peer = p as Record<string, unknown>;
    const old = base === undefined ? undefined : findPeer(base, String(peer["name"]));
    for (const k of Object.keys(peer)) {
      if (!isSecretKey(k)) continue;
      const changed = base !== undefined && old?.[k] !== peer[k];
      peer[k] = changed ? `${MASK} (changed)` : MASK;
    }
  }
  return out;
}

/** Lines of a TOML text (no trailing empty line). */
function lines(text: string): string[] {
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

/** A shell session bound to a host. */
export class ShellSession {
  #mode: Mode = "operational";
  #candidate: RawTree = {};
  #base = 0;
  readonly #host: ShellHost;
  readonly #who: string;

  /** A session for `who` (shown as the committer) on `host`. */
  constructor(host: ShellHost, who: string) {
    this.#host = host;
    this.#who = who;
  }

  /** The current mode. */
  get mode(): Mode {
    return this.#mode;
  }

  /** The prompt for the current mode. */
  prompt(): string {
    return this.#mode === "operational" ? "branchgate> " : "branchgate# ";
  }

  /** True when the candidate differs from the running config. */
  dirty(): boolean {
    if (this.#mode !== "configure") return false;
    return toToml(this.#candidate) !== toToml(this.#host.running().tree);
  }

  #ctx(): GrammarContext {
    const running = this.#host.running().tree;
    return {
      running,
      candidate: this.#mode === "configure" ? this.#candidate : running,
      revisions: this.#host.revisions(),
    };
  }

  /** Tab completion for the text left of the cursor. */
  complete(line: string): CompletionResult {
    return completeLine(this.#mode, this.#ctx(), line);
  }

  /** `?` help for the text left of the cursor. */
  help(line: string): string[] {
    return helpLines(this.#mode, this.#ctx(), line);
  }

  /** Runs one line. */
  async execute(line: string): Promise<ExecResult> {
    const t = tokenize(line);
    if (t.openQuote) return fail("unterminated quote");
    if (t.words.length === 0) return ok([]);
    const ctx = this.#ctx();
    const exp = expandWords(this.#mode, ctx, t.words);
    if ("error" in exp) return fail(exp.error);
    const words = exp.words;
    const problem = this.#syntax(this.#mode, ctx, words);
    if (problem !== undefined) return fail(problem);
    try {
      return this.#mode === "operational"
        ? await this.#operational(words)
        : await this.#configure(words);
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
  }

  /** Checks `words` against the grammar; a message when they do not form a command. */
  #syntax(mode: Mode, ctx: GrammarContext, words: readonly string[]): string | undefined {
    for (let i = 0; i < words.length; i++) {
      const n = nextWords(mode, ctx, words.slice(0, i));
      const w = words[i]!;
      const fits = n.choices.some((c) => !c.literal || c.word === w);
      if (!fits) {
        const where = words.slice(0, i).join(" ");
        return n.choices.length === 0
          ? `'${w}' unexpected${where === "" ? "" : ` after '${where}'`}`
          : `'${w}' is not valid here${where === "" ? "" : ` after '${where}'`} (type ? for help)`;
      }
    }
    if (!nextWords(mode, ctx, words).complete) {
      return `incomplete command '${words.join(" ")}' (type ? for help)`;
    }
    return undefined;
  }

  async #operational(w: readonly string[]): Promise<ExecResult> {
    const host = this.#host;
    const [a, b, c] = w;
    switch (a) {
      case "configure": {
        const r = host.running();
        this.#candidate = structuredClone(r.tree);
        this.#base = r.revision;
        this.#mode = "configure";
        const pending = host.pendingConfirm();
        const note = pending === undefined
          ? []
          : [`note: commit confirmed pending; rollback at ${pending.deadline.toISOString()}`];
        return ok([`entering configure mode (running revision ${r.revision})`, ...note]);
      }
      case "exit":
        return { output: [], ok: true, end: true };
      case "selftest":
        return ok(host.selftest());
      case "clear":
        return ok([await host.clearIkeSa(w[3]!)]);
      case "show":
        if (b === "ike") return ok(ikeTable(host.ikeSas()));
        if (b === "esp" || b === "peers" || b === "crypto") await host.refresh?.();
        if (b === "esp") return ok(espTable(host.espSas()));
        if (b === "peers") return ok(peersTable(host.peers()));
        if (b === "version") return ok(host.version());
        if (b === "pki") return ok(pkiTable(host.pki?.() ?? []));
        if (b === "drops") {
          await host.refresh?.();
          return ok(dropsTable(host.drops?.() ?? []));
        }
        if (b === "crypto") return ok(host.crypto?.() ?? ["no crypto report on this host"]);
        if (b === "config") {
          const r = host.running();
          const meta = host.revisions()[0];
          const head = meta === undefined
            ? "# no revision committed"
            : `# revision ${meta.number}, ${meta.time}, by ${meta.by}`;
          return ok([head, ...lines(toToml(masked(r.tree)))]);
        }
        if (b === "log") {
          const n = c === undefined ? 20 : Number(c);
          if (!/^[0-9]{1,4}$/.test(c ?? "20") || n < 1 || n > 1000) {
            return fail("show log takes 1-1000 lines");
          }
          return ok(host.logLines(n));
        }
    }
    return fail(`unknown command '${w.join(" ")}'`);
  }

  async #configure(w: readonly string[]): Promise<ExecResult> {
    const host = this.#host;
    const [a, b, c] = w;
    switch (a) {
      case "run": {
        this.#mode = "operational";
        try {
          const r = await this.#operational(w.slice(1));
          if (r.end || w[1] === "configure") return fail("not available under run");
          return r;
        } finally {
          this.#mode = "configure";
        }
      }
      case "set":
      case "delete": {
        const r = a === "set"
          ? setPath(this.#candidate, w.slice(1))
          : deletePath(this.#candidate, w.slice(1));
        if (!r.ok) return fail(r.error);
        this.#candidate = r.tree;
        return ok([]);
      }
      case "show": {
        if (b === undefined) return ok(lines(toToml(masked(this.#candidate))));
        if (b === "gateway") {
          return ok(lines(toToml({ gateway: this.#candidate["gateway"] ?? {} })));
        }
        const peer = findPeer(this.#candidate, c ?? "");
        if (peer === undefined) return fail(`peer ${c}: no such peer`);
        return ok(lines(toToml(masked({ peer: [peer] }))));
      }
      case "compare": {
        const running = host.running().tree;
        const diff = compareText(
          toToml(masked(running)),
          toToml(masked(this.#candidate, running)),
        );
        return ok(diff.length === 0 ? ["no changes"] : diff);
      }
      case "discard": {
        const r = host.running();
        this.#candidate = structuredClone(r.tree);
        this.#base = r.revision;
        return ok(["candidate reset to the running config"]);
      }
      case "rollback": {
        const n = Number(b);
        const tree = /^[0-9]{1,2}$/.test(b ?? "") ? host.revisionTree(n) : undefined;
        if (tree === undefined) return fail(`rollback ${b}: no such revision`);
        this.#candidate = structuredClone(tree);
        this.#base = host.running().revision;
        return ok([`revision ${b} back loaded into the candidate; 'compare', then 'commit'`]);
      }
      case "commit":
        return await this.#commit(b, c);
      case "exit": {
        if (this.dirty()) return fail("uncommitted changes: commit or discard them first");
        this.#mode = "operational";
        return ok([]);
      }
    }
    return fail(`unknown command '${w.join(" ")}'`);
  }

  async #commit(b: string | undefined, c: string | undefined): Promise<ExecResult> {
    let confirmMinutes: number | undefined;
    if (b === "confirmed") {
      const n = Number(c);
      if (!/^[0-9]{1,2}$/.test(c ?? "") || n < 1 || n > 60) {
        return fail("commit confirmed takes 1-60 minutes");
      }
      confirmMinutes = n;
    }
    const r = await this.#host.commit(this.#candidate, {
      by: this.#who,
      baseRevision: this.#base,
      ...(confirmMinutes !== undefined ? { confirmMinutes } : {}),
      ...(b === "check" ? { checkOnly: true } : {}),
    });
    if (!r.ok) return fail(...r.errors);
    if (b !== "check") this.#base = r.revision;
    return ok(r.summary);
  }
}
