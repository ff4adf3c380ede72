/**
 * Line diff for `compare`: a longest-common-subsequence alignment of two texts, printed as
 * `-`/`+` lines with the enclosing table header and peer name as context.
 * @module
 */

/** One aligned line. */
export interface DiffLine {
  /** " " same, "-" only in the old text, "+" only in the new. */
  readonly op: " " | "-" | "+";
  /** The line. */
  readonly text: string;
}

/** Largest line count compared line by line (configs are far smaller). */
const MAX_LINES = 4000;

/** Aligns `a` and `b` line by line. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  if (a.length > MAX_LINES || b.length > MAX_LINES) {
    return [
      ...a.map((text) => ({ op: "-" as const, text })),
      ...b.map((text) => ({
        op: "+" as const,
        text,
      })),
    ];
  }
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: length of the LCS of a[i..] and b[j..], in one flat array.
  const lcs = new Uint16Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = a[i] === b[j]
        ? lcs[(i + 1) * (m + 1) + j + 1]! + 1
        : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: " ", text: a[i]! });
      i++;
      j++;
    } else if (lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!) {
      out.push({ op: "-", text: a[i++]! });
    } else {
      out.push({ op: "+", text: b[j++]! });
    }
  }
  while (i < n) out.push({ op: "-", text: a[i++]! });
  while (j < m) out.push({ op: "+", text: b[j++]! });
  return out;
}

/**
 * The changed lines of `oldText` → `newText`, each run preceded by its table header and
 * `name = …` line for context; [] when equal.
 */
export function compareText(oldText: string, newText: string): string[] {
  const split = (t: string) => t === "" ? [] : t.replace(/\n$/, "").split("\n");
  const d = diffLines(split(oldText), split(newText));
  const out: string[] = [];
  let header: string | undefined;
  let nameLine: string | undefined;
  let shown = false;
  for (const line of d) {
    if (line.text.startsWith("[")) {
      header = line.text;
      nameLine = undefined;
      shown = false;
    } else if (line.text.startsWith("name = ")) {
      nameLine = line.text;
    }
    if (line.op === " ") continue;
    if (!shown) {
      if (header !== undefined && !line.text.startsWith("[")) out.push(`  ${header}`);
      if (nameLine !== undefined && line.text !== nameLine) out.push(`  ${nameLine}`);
      shown = true;
    }
    out.push(`${line.op} ${line.text}`);
  }
  return out;
}
