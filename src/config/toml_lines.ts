/**
 * Where each key of a TOML document is defined: a map from a key path (`gateway.mtu`,
 * `peer[1].psk`, `peer[1]` for the `[[peer]]` header) to its 1-based line, so validation errors
 * can name the line. It reads the source the way TOML 1.0 lays it out (tables, arrays of tables,
 * dotted and quoted keys, multi-line strings and arrays); it never fails: anything it does not
 * understand simply has no line. Syntax errors are the TOML parser's job.
 * @module
 */

/** Key path → 1-based line of its definition. */
export type KeyLines = ReadonlyMap<string, number>;

/** Scanner state carried across lines for values that span several lines. */
interface Carry {
  /** Open multi-line string delimiter, if inside one. */
  str: '"""' | "'''" | undefined;
  /** Open brackets/braces of an array or inline table value. */
  depth: number;
}

/** Splits a key (`a."b.c".d`) into its parts; undefined when it is not a plain key. */
function splitKey(text: string): string[] | undefined {
  const parts: string[] = [];
  let i = 0;
  const s = text.trim();
  while (i < s.length) {
    while (s[i] === " " || s[i] === "\t") i++;
    const c = s[i];
    if (c === '"' || c === "'") {
      const end = s.indexOf(c, i + 1);
      if (end < 0) return undefined;
      parts.push(s.slice(i + 1, end));
      i = end + 1;
    } else {
      const m = /^[A-Za-z0-9_-]+/.exec(s.slice(i));
      if (m === null) return undefined;
      parts.push(m[0]);
      i += m[0].length;
    }
    while (s[i] === " " || s[i] === "\t") i++;
    if (i < s.length) {
      if (s[i] !== ".") return undefined;
      i++;
    }
  }
  return parts.length > 0 ? parts : undefined;
}

/** Index just past the end of a key at the start of `line` (before `=`), or -1. */
function keyEnd(line: string): number {
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === '"' || c === "'") {
      const end = line.indexOf(c, i + 1);
      if (end < 0) return -1;
      i = end + 1;
    } else if (c === "=") {
      return i;
    } else {
      i++;
    }
  }
  return -1;
}

/** Scans value text from `from`, updating `carry` for strings and brackets that stay open. */
function scanValue(line: string, from: number, carry: Carry): void {
  let i = from;
  while (i < line.length) {
    if (carry.str !== undefined) {
      const end = line.indexOf(carry.str, i);
      if (end < 0) return;
      i = end + 3;
      carry.str = undefined;
      continue;
    }
    const c = line[i]!;
    if (c === "#") return;
    if (line.startsWith('"""', i) || line.startsWith("'''", i)) {
      carry.str = line.startsWith('"""', i) ? '"""' : "'''";
      i += 3;
      continue;
    }
    if (c === '"') {
      i++;
      while (i < line.length && line[i] !== '"') i += line[i] === "\\" ? 2 : 1;
      i++;
      continue;
    }
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      i = end < 0 ? line.length : end + 1;
      continue;
    }
    if (c === "[" || c === "{") carry.depth++;
    if ((c === "]" || c === "}") && carry.depth > 0) carry.depth--;
    i++;
  }
}

/** Builds the key → line map of a TOML document. */
export function keyLines(source: string): KeyLines {
  const map = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  let table = "";
  const carry: Carry = { str: undefined, depth: 0 };
  const lines = source.split(/\r?\n/);

  // Resolves a header's parts into a path, indexing every prefix that is an array of tables.
  const resolve = (parts: string[], lastIsArray: boolean): string => {
    let path = "";
    parts.forEach((p, i) => {
      path = path === "" ? p : `${path}.${p}`;
      const isLast = i === parts.length - 1;
      if (isLast && lastIsArray) return;
      const n = arrayCounts.get(path);
      if (n !== undefined) path = `${path}[${n - 1}]`;
    });
    return path;
  };

  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    if (carry.str !== undefined || carry.depth > 0) {
      scanValue(raw, 0, carry);
      return;
    }
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const arrayHeader = /^\[\[(.+)\]\]\s*(#.*)?$/.exec(line);
    if (arrayHeader !== null) {
      const parts = splitKey(arrayHeader[1]!);
      if (parts === undefined) return;
      const base = resolve(parts, true);
      const n = (arrayCounts.get(base) ?? 0) + 1;
      arrayCounts.set(base, n);
      table = `${base}[${n - 1}]`;
      map.set(table, lineNo);
      return;
    }
    const header = /^\[([^\[\]]+)\]\s*(#.*)?$/.exec(line);
    if (header !== null) {
      const parts = splitKey(header[1]!);
      if (parts === undefined) return;
      table = resolve(parts, false);
      if (!map.has(table)) map.set(table, lineNo);
      return;
    }
    const eq = keyEnd(line);
    if (eq <= 0) return;
    const parts = splitKey(line.slice(0, eq));
    if (parts === undefined) return;
    let path = table;
    for (const p of parts) {
      path = path === "" ? p : `${path}.${p}`;
      if (!map.has(path)) map.set(path, lineNo);
    }
    scanValue(line, eq + 1, carry);
  });
  return map;
}

/**
 * The line of `path` or of its nearest defined ancestor (`peer[0].ike_proposals[2]` falls back
 * to `peer[0].ike_proposals`, then `peer[0]`); undefined when none is defined.
 */
export function lineOf(lines: KeyLines, path: string): number | undefined {
  let p = path;
  while (p !== "") {
    const n = lines.get(p);
    if (n !== undefined) return n;
    const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
    p = cut < 0 ? "" : p.slice(0, cut);
  }
  return undefined;
}
