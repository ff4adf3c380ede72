/**
 * A config file from disk, fully checked: syntax, schema, cross-field rules and each peer's
 * key source (so a missing `psk_file`, certificate or key file fails at load, not at the first
 * handshake).
 * @module
 */

import { dirname, resolve } from "../path.ts";
import { parseConfig, type ParseResult } from "./parse.ts";
import type { ConfigIssue } from "./issues.ts";
import { resolvePsk } from "./secrets.ts";
import { credentialFileIssues } from "./credential_files.ts";
import { keyLines, lineOf } from "./toml_lines.ts";
import type { Config } from "./schema.ts";

/** Largest config file accepted (a branch router's config is a few kilobytes). */
export const MAX_CONFIG_BYTES = 1 << 20;

/** Problems with the peers' key sources of a valid config. */
export function pskIssues(config: Config, baseDir: string, source?: string): ConfigIssue[] {
  const lines = source === undefined ? undefined : keyLines(source);
  const out: ConfigIssue[] = [];
  config.peer.forEach((p, i) => {
    for (const c of credentialFileIssues(p, baseDir)) {
      const line = lines === undefined
        ? undefined
        : lineOf(lines, `peer[${i}].${c.key.replace(/\[.*$/, "")}`);
      const key = `peer.${p.name}.${c.key}`;
      out.push(
        line === undefined ? { key, message: c.message } : { key, line, message: c.message },
      );
    }
    if (p.auth === "pubkey") return;
    const r = resolvePsk(p, baseDir);
    if (r.ok) return;
    const line = lines === undefined ? undefined : lineOf(lines, `peer[${i}].psk_file`);
    const key = `peer.${p.name}.psk_file`;
    out.push(line === undefined ? { key, message: r.message } : { key, line, message: r.message });
  });
  return out;
}

/** Reads `path` as text, refusing non-files and oversized files. */
export function readConfigText(path: string): { text: string } | { error: string } {
  try {
    const st = Deno.statSync(path);
    if (!st.isFile) return { error: "not a regular file" };
    if (st.size > MAX_CONFIG_BYTES) return { error: `larger than ${MAX_CONFIG_BYTES} bytes` };
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(Deno.readFileSync(path)) };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { error: "no such file" };
    if (err instanceof TypeError) return { error: "not valid UTF-8" };
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** Loads and checks a config file; the result carries the source text on success. */
export function loadConfigFile(
  path: string,
): (ParseResult & { readonly ok: false }) | {
  readonly ok: true;
  readonly config: Config;
  readonly raw: Record<string, unknown>;
  readonly text: string;
} {
  const read = readConfigText(path);
  if ("error" in read) return { ok: false, issues: [{ key: "", message: read.error }] };
  const parsed = parseConfig(read.text);
  if (!parsed.ok) return parsed;
  const issues = pskIssues(parsed.config, dirname(resolve(path)), read.text);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, config: parsed.config, raw: parsed.raw, text: read.text };
}
