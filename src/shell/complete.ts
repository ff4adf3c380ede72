/**
 * Tab completion and `?` help for the text left of the cursor, from the grammar. Output fits
 * 80 columns of plain ASCII.
 * @module
 */

import { expandWords, type GrammarContext, type Mode, nextWords } from "./grammar.ts";
import { tokenize } from "./tokenize.ts";

/** What Tab does. */
export interface CompletionResult {
  /** Text to insert at the cursor (may be ""). */
  readonly insert: string;
  /** Lines to print above the prompt when the completion is not unique ([] otherwise). */
  readonly listing: readonly string[];
}

/** Terminal width the listings are laid out for. */
export const COLUMNS = 80;

function splitPartial(line: string): { words: string[]; partial: string; quoted: boolean } {
  const t = tokenize(line);
  if (line.trim() === "" || t.trailingBlank) return { words: t.words, partial: "", quoted: false };
  const words = t.words.slice(0, -1);
  return { words, partial: t.words[t.words.length - 1] ?? "", quoted: t.openQuote };
}

function commonPrefix(words: readonly string[]): string {
  if (words.length === 0) return "";
  let p = words[0]!;
  for (const w of words) while (!w.startsWith(p)) p = p.slice(0, -1);
  return p;
}

function row(word: string, help: string): string {
  const left = `  ${word.padEnd(20)} `;
  const room = Math.max(10, COLUMNS - 1 - left.length);
  const h = help.length > room ? help.slice(0, room - 3) + "..." : help;
  return (left + h).trimEnd();
}

/** `?` help: the possible next words with a line of help each. */
export function helpLines(mode: Mode, ctx: GrammarContext, line: string): string[] {
  const { words, partial } = splitPartial(line);
  const expanded = expandWords(mode, ctx, words);
  if ("error" in expanded) return [`error: ${expanded.error}`];
  const n = nextWords(mode, ctx, expanded.words);
  const choices = n.choices.filter((c) => !c.literal || c.word.startsWith(partial));
  const out: string[] = [];
  if (n.complete && partial === "") out.push(row("<cr>", "run the command"));
  for (const c of choices) out.push(row(c.word, c.help));
  if (out.length === 0) {
    const bad = partial !== "" ? partial : words[words.length - 1] ?? "";
    return [`error: nothing can follow here${bad === "" ? "" : ` ('${bad}')`}`];
  }
  return ["Possible completions:", ...out];
}

/** Tab: completes a unique word (adding a blank), extends a common prefix, or lists choices. */
export function completeLine(mode: Mode, ctx: GrammarContext, line: string): CompletionResult {
  const { words, partial, quoted } = splitPartial(line);
  if (quoted) return { insert: "", listing: [] };
  const expanded = expandWords(mode, ctx, words);
  if ("error" in expanded) return { insert: "", listing: [`error: ${expanded.error}`] };
  const n = nextWords(mode, ctx, expanded.words);
  const hits = n.choices.filter((c) => c.literal && c.word.startsWith(partial)).map((c) => c.word);
  const unique = [...new Set(hits)];
  if (unique.length === 1) {
    return { insert: unique[0]!.slice(partial.length) + " ", listing: [] };
  }
  const prefix = commonPrefix(unique);
  if (prefix.length > partial.length) return { insert: prefix.slice(partial.length), listing: [] };
  if (unique.length === 0 && partial !== "" && n.choices.some((c) => !c.literal)) {
    return { insert: "", listing: [] };
  }
  return { insert: "", listing: helpLines(mode, ctx, line) };
}
