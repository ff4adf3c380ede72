/**
 * Splits a shell line into words: blanks separate, "double" or 'single' quotes keep blanks
 * (and `?`) inside a word, a backslash inside double quotes escapes the next character.
 * @module
 */

/** A tokenized line. */
export interface Tokens {
  /** The words, quotes removed. */
  readonly words: string[];
  /** True when the line ends inside a quote. */
  readonly openQuote: boolean;
  /** True when the line ends in a blank (the next word has not started). */
  readonly trailingBlank: boolean;
}

/** Tokenizes `line`. Never throws. */
export function tokenize(line: string): Tokens {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
      continue;
    }
    if (c === " " || c === "\t") {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '"' || c === "'") quote = c;
    else cur += c;
  }
  if (inWord) words.push(cur);
  const last = line[line.length - 1];
  return {
    words,
    openQuote: quote !== undefined,
    trailingBlank: quote === undefined && (last === " " || last === "\t"),
  };
}

/** True when position `pos` of `line` is inside a quoted word (where `?` is literal). */
export function insideQuote(line: string, pos: number): boolean {
  return tokenize(line.slice(0, pos)).openQuote;
}

/** Quotes a word for display or completion when it needs it. */
export function quoteWord(word: string): string {
  return /^[^\s"'?]+$/.test(word) ? word : JSON.stringify(word);
}
