/**
 * POSIX path helpers for the daemon (join, dirname, basename, resolve, isAbsolute), so that
 * the resident process never loads Deno's Node compatibility layer for `node:path` (about
 * 6 MiB resident on its own; tests/unit/path_test.ts checks these against it).
 * @module
 */

/** Whether `p` starts at the root. */
export function isAbsolute(p: string): boolean {
  return p.startsWith("/");
}

/** `p` with `.` and `..` segments and repeated slashes resolved (no trailing slash). */
function normalize(p: string): string {
  const abs = isAbsolute(p);
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!abs) out.push("..");
      continue;
    }
    out.push(seg);
  }
  const body = out.join("/");
  return abs ? `/${body}` : body === "" ? "." : body;
}

/** The segments joined with "/" and normalized ("." when all are empty). */
export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/** An absolute, normalized path: the parts from the right until one is absolute, on the cwd. */
export function resolve(...parts: string[]): string {
  let path = "";
  for (let i = parts.length - 1; i >= 0 && !isAbsolute(path); i--) {
    const p = parts[i]!;
    if (p === "") continue;
    path = path === "" ? p : `${p}/${path}`;
  }
  if (!isAbsolute(path)) path = `${Deno.cwd()}/${path}`;
  return normalize(path);
}

/** `p` without trailing slashes, keeping a lone root. */
function trimEnd(p: string): string {
  let end = p.length;
  while (end > 1 && p[end - 1] === "/") end--;
  return p.slice(0, end);
}

/** The directory part of `p` ("." when it has none, "/" for the root). */
export function dirname(p: string): string {
  if (p === "") return ".";
  const t = trimEnd(p);
  const i = t.lastIndexOf("/");
  if (i < 0) return ".";
  if (i === 0) return "/";
  return trimEnd(t.slice(0, i));
}

/** The last segment of `p` (trailing slashes ignored). */
export function basename(p: string): string {
  const t = trimEnd(p);
  if (t === "/") return "";
  return t.slice(t.lastIndexOf("/") + 1);
}
