/**
 * The shell's command grammar, one function answering "what may come next after these words?"
 * for both modes. Completion, `?` help and abbreviation (`sh ik sa`) all use it; config paths
 * and values come from the schema (`schema_info.ts`), peer names from the trees.
 * @module
 */

import type { RawTree } from "../config/parse.ts";
import { findPeer, peerNames } from "../config/tree_edit.ts";
import { type FieldInfo, gatewayFields, peerFields, valueHint } from "../config/schema_info.ts";

/** The two modes. */
export type Mode = "operational" | "configure";

/** What the grammar needs to know about the world. */
export interface GrammarContext {
  /** The running config tree. */
  readonly running: RawTree;
  /** The candidate (configure mode). */
  readonly candidate: RawTree;
  /** Revisions for `rollback`, newest first (index = how far back). */
  readonly revisions: readonly { readonly time: string; readonly by: string; note: string }[];
}

/** One possible next word. */
export interface Choice {
  /** The word itself, or a placeholder such as `<576-9000>` when `literal` is false. */
  readonly word: string;
  /** One line of help. */
  readonly help: string;
  /** True when `word` can be typed as is (and completed to). */
  readonly literal: boolean;
  /** True when a unique prefix of it may stand for it (keywords, not names). */
  readonly abbreviable: boolean;
}

/** The answer for one position. */
export interface Next {
  /** Possible words. */
  readonly choices: readonly Choice[];
  /** True when the command is complete here (Enter runs it). */
  readonly complete: boolean;
}

const kw = (word: string, help: string): Choice => ({
  word,
  help,
  literal: true,
  abbreviable: true,
});
const name = (word: string, help: string): Choice => ({
  word,
  help,
  literal: true,
  abbreviable: false,
});
const free = (word: string, help: string): Choice => ({
  word,
  help,
  literal: false,
  abbreviable: false,
});

const NOTHING: Next = { choices: [], complete: false };
const END: Next = { choices: [], complete: true };
const next = (choices: Choice[], complete = false): Next => ({ choices, complete });

function table(x: unknown): Record<string, unknown> | undefined {
  return x !== null && typeof x === "object" && !Array.isArray(x)
    ? x as Record<string, unknown>
    : undefined;
}

function valueChoices(f: FieldInfo): Choice[] {
  if (f.kind === "boolean" || f.kind === "choice") return f.values.map((v) => kw(v, f.help));
  const out = f.values.map((v) => name(v, f.help));
  out.push(free(f.kind === "integer" ? valueHint(f) : `<${f.name}>`, f.help));
  return out;
}

function fieldChoices(fields: readonly FieldInfo[], only?: Record<string, unknown>): Choice[] {
  return fields
    .filter((f) => only === undefined || f.name in only)
    .filter((f) => f.name !== "name")
    .map((f) => kw(f.name, f.help));
}

function peerChoices(tree: RawTree, help: string): Choice[] {
  return peerNames(tree).map((n) => name(n, help));
}

const OPERATIONAL: Choice[] = [
  kw("show", "show state, config, log"),
  kw("clear", "clear state"),
  kw("configure", "enter configure mode"),
  kw("selftest", "run the crypto known-answer tests"),
  kw("exit", "end this session"),
];

const CONFIGURE: Choice[] = [
  kw("set", "set a value (adds to lists)"),
  kw("delete", "delete a value, list element or peer"),
  kw("show", "show the candidate config"),
  kw("compare", "candidate vs running, as a diff"),
  kw("commit", "validate and apply the candidate"),
  kw("rollback", "load an earlier revision into the candidate"),
  kw("discard", "throw away uncommitted changes"),
  kw("run", "run an operational command"),
  kw("exit", "leave configure mode"),
];

function operational(ctx: GrammarContext, w: readonly string[]): Next {
  const [a, b, c, d] = w;
  if (a === undefined) return next(OPERATIONAL);
  if (a === "show") {
    if (b === undefined) {
      return next([
        kw("ike", "IKE security associations"),
        kw("esp", "ESP security associations with counters"),
        kw("peers", "configured peers and their state"),
        kw("pki", "loaded certificates and days to expiry"),
        kw("drops", "packets dropped, by layer and reason (unauthenticated input, trap holds)"),
        kw("config", "the running config (keys masked)"),
        kw("log", "recent log lines"),
        kw("version", "software version"),
        kw("crypto", "crypto backends, known answers, /dev/crypto offload"),
      ]);
    }
    if (b === "ike" || b === "esp") {
      if (c === undefined) return next([kw("sa", "security associations")]);
      return c === "sa" && d === undefined ? END : NOTHING;
    }
    if (b === "log") {
      if (c === undefined) return next([free("<1-1000>", "how many lines (default 20)")], true);
      return w.length === 3 ? END : NOTHING;
    }
    if (["peers", "pki", "drops", "config", "version", "crypto"].includes(b)) {
      return w.length === 2 ? END : NOTHING;
    }
    return NOTHING;
  }
  if (a === "clear") {
    if (b === undefined) return next([kw("ike", "IKE state")]);
    if (b !== "ike") return NOTHING;
    if (c === undefined) return next([kw("sa", "delete a peer's SAs (it may reconnect)")]);
    if (c !== "sa") return NOTHING;
    if (d === undefined) return next(peerChoices(ctx.running, "peer"));
    return w.length === 4 ? END : NOTHING;
  }
  if (["configure", "selftest", "exit"].includes(a)) return w.length === 1 ? END : NOTHING;
  return NOTHING;
}

function setOrDelete(ctx: GrammarContext, w: readonly string[], del: boolean): Next {
  const [, section, x, y, z] = w;
  const tree = ctx.candidate;
  if (section === undefined) {
    return next([kw("gateway", "settings of this gateway"), kw("peer", "a remote office")]);
  }
  if (section === "gateway") {
    const gw = table(tree["gateway"]);
    if (x === undefined) return next(fieldChoices(gatewayFields(), del ? gw ?? {} : undefined));
    const f = gatewayFields().find((g) => g.name === x);
    if (f === undefined) return NOTHING;
    if (y === undefined) return del ? next(listElements(gw, f), true) : next(valueChoices(f));
    return w.length === 4 ? END : NOTHING;
  }
  if (section === "peer") {
    if (x === undefined) {
      const existing = peerChoices(tree, "existing peer");
      return next(del ? existing : [...existing, free("<name>", "a new peer")]);
    }
    const peer = findPeer(tree, x);
    if (y === undefined) {
      if (del) return next(peer === undefined ? [] : fieldChoices(peerFields(), peer), true);
      return next(fieldChoices(peerFields()));
    }
    const f = peerFields().find((g) => g.name === y && g.name !== "name");
    if (f === undefined) return NOTHING;
    if (z === undefined) return del ? next(listElements(peer, f), true) : next(valueChoices(f));
    return w.length === 5 ? END : NOTHING;
  }
  return NOTHING;
}

function listElements(t: Record<string, unknown> | undefined, f: FieldInfo): Choice[] {
  const cur = t?.[f.name];
  return f.list && Array.isArray(cur) ? cur.map((v) => name(String(v), "list element")) : [];
}

function configure(ctx: GrammarContext, w: readonly string[]): Next {
  const [a, b, c] = w;
  if (a === undefined) return next(CONFIGURE);
  if (a === "set" || a === "delete") return setOrDelete(ctx, w, a === "delete");
  if (a === "show") {
    if (b === undefined) {
      return next([kw("gateway", "only [gateway]"), kw("peer", "only one peer")], true);
    }
    if (b === "gateway") return w.length === 2 ? END : NOTHING;
    if (b === "peer") {
      if (c === undefined) return next(peerChoices(ctx.candidate, "peer"));
      return w.length === 3 ? END : NOTHING;
    }
    return NOTHING;
  }
  if (a === "commit") {
    if (b === undefined) {
      return next([
        kw("confirmed", "roll back by itself unless confirmed by another commit"),
        kw("check", "validate only"),
      ], true);
    }
    if (b === "confirmed") {
      if (c === undefined) return next([free("<1-60>", "minutes until rollback")]);
      return w.length === 3 ? END : NOTHING;
    }
    return b === "check" && w.length === 2 ? END : NOTHING;
  }
  if (a === "rollback") {
    if (b === undefined) {
      return next(ctx.revisions.map((r, i) => name(String(i), `${r.time} ${r.by} ${r.note}`)));
    }
    return w.length === 2 ? END : NOTHING;
  }
  if (a === "run") return operational(ctx, w.slice(1));
  if (["compare", "discard", "exit"].includes(a)) return w.length === 1 ? END : NOTHING;
  return NOTHING;
}

/** What may follow `words` in `mode`. */
export function nextWords(mode: Mode, ctx: GrammarContext, words: readonly string[]): Next {
  return mode === "operational" ? operational(ctx, words) : configure(ctx, words);
}

/**
 * Replaces abbreviated keywords by the full word (`sh ik sa` → `show ike sa`); values pass
 * through. Returns an error for an ambiguous abbreviation.
 */
export function expandWords(
  mode: Mode,
  ctx: GrammarContext,
  words: readonly string[],
): { words: string[] } | { error: string } {
  const out: string[] = [];
  for (const w of words) {
    const { choices } = nextWords(mode, ctx, out);
    const exact = choices.find((c) => c.literal && c.word === w);
    if (exact !== undefined) {
      out.push(w);
      continue;
    }
    const hits = choices.filter((c) => c.abbreviable && c.word.startsWith(w));
    if (hits.length === 1 && w !== "") out.push(hits[0]!.word);
    else if (hits.length > 1 && !choices.some((c) => !c.abbreviable)) {
      return { error: `'${w}' is ambiguous: ${hits.map((h) => h.word).join(", ")}` };
    } else out.push(w);
  }
  return { words: out };
}
