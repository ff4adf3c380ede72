/**
 * From TOML text (or a raw tree the shell edited) to a validated {@link Config}: TOML syntax
 * (smol-toml), then the schema (valibot), then the cross-field checks. Every problem names the
 * key, and the line when the input was text. Never throws on bad input.
 * @module
 */

import * as v from "valibot";
import { parse as parseToml, TomlError } from "smol-toml";
import { type Config, ConfigSchema } from "./schema.ts";
import { checkConfig, configWarnings, type TreePath } from "./check.ts";
import type { ConfigIssue } from "./issues.ts";
import { type KeyLines, keyLines, lineOf } from "./toml_lines.ts";

/** A raw config tree: what the TOML holds, before defaults (what the shell edits). */
export type RawTree = Record<string, unknown>;

/** The outcome of parsing or validating. */
export type ParseResult =
  | { readonly ok: true; readonly config: Config; readonly raw: RawTree }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/** `peer[0].psk` (for line lookup). */
function tomlPath(path: TreePath): string {
  let s = "";
  for (const seg of path) s += typeof seg === "number" ? `[${seg}]` : s === "" ? seg : `.${seg}`;
  return s;
}

/** `peer.hq.psk` (as the shell spells it): peers by name when they have one. */
export function displayKey(raw: RawTree, path: TreePath): string {
  const parts: string[] = [];
  let node: unknown = raw;
  path.forEach((seg, i) => {
    const next = node !== null && typeof node === "object"
      ? (node as Record<string | number, unknown>)[seg]
      : undefined;
    if (typeof seg === "number") {
      const name = next !== null && typeof next === "object"
        ? (next as Record<string, unknown>)["name"]
        : undefined;
      const parentIsPeers = i === 1 && path[0] === "peer";
      if (parentIsPeers && typeof name === "string" && name !== "") parts.push(name);
      else if (!parentIsPeers) parts[parts.length - 1] += `[${seg + 1}]`;
      else parts.push(`#${seg + 1}`);
    } else {
      parts.push(seg);
    }
    node = next;
  });
  return parts.join(".");
}

function issue(raw: RawTree, lines: KeyLines | undefined, path: TreePath, message: string) {
  const line = lines === undefined ? undefined : lineOf(lines, tomlPath(path));
  const key = displayKey(raw, path);
  return line === undefined ? { key, message } : { key, line, message };
}

/** Validates a raw tree; `lines` (from the TOML source) adds line numbers to problems. */
export function validateTree(raw: RawTree, lines?: KeyLines): ParseResult {
  const result = v.safeParse(ConfigSchema, raw);
  if (!result.success) {
    const issues = result.issues.map((i) => {
      const path: (string | number)[] = (i.path ?? []).map((p) =>
        typeof p.key === "number" ? p.key : String(p.key)
      );
      const message = i.expected === "never"
        ? "unknown key"
        : i.received === "undefined"
        ? "required key missing"
        : i.message;
      return issue(raw, lines, path, message);
    });
    return { ok: false, issues };
  }
  const problems = checkConfig(result.output);
  if (problems.length > 0) {
    return { ok: false, issues: problems.map((p) => issue(raw, lines, p.path, p.message)) };
  }
  return { ok: true, config: result.output, raw };
}

/** Parses and validates TOML text. */
export function parseConfig(source: string): ParseResult {
  let raw: RawTree;
  try {
    raw = parseToml(source) as RawTree;
  } catch (err) {
    if (err instanceof TomlError) {
      const message = err.message.split("\n")[0] ?? "syntax error";
      return { ok: false, issues: [{ key: "", line: err.line, message: `TOML: ${message}` }] };
    }
    return { ok: false, issues: [{ key: "", message: `TOML: ${String(err)}` }] };
  }
  return validateTree(raw, keyLines(source));
}

/** The warnings of a valid config (see `configWarnings`), located in `source`. */
export function warningsFor(config: Config, raw: RawTree, source: string): ConfigIssue[] {
  const lines = keyLines(source);
  return configWarnings(config).map((w) => issue(raw, lines, w.path, w.message));
}
