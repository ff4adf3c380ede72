/**
 * Config problems as data: each names the key (as the shell spells its path, `peer.hq.psk`) and,
 * when the config came from a file, the line.
 * @module
 */

/** One problem with a config. */
export interface ConfigIssue {
  /** The key, dotted, with peers by name: `gateway.mtu`, `peer.hq.dpd_delay`. */
  readonly key: string;
  /** 1-based line in the source, when known. */
  readonly line?: number;
  /** What is wrong, in a few words. */
  readonly message: string;
}

/** Thrown (or returned) when a config does not validate. */
export class ConfigError extends Error {
  /** Creates the error from its issues; `source` names the file, if any. */
  constructor(readonly issues: readonly ConfigIssue[], readonly source?: string) {
    super(issues.map((i) => formatIssue(i, source)).join("\n"));
    this.name = "ConfigError";
  }
}

/** `FILE:LINE: key: message` (parts omitted when unknown). */
export function formatIssue(issue: ConfigIssue, source?: string): string {
  const where = [source, issue.line].filter((x) => x !== undefined).join(":");
  const key = issue.key === "" ? "" : `${issue.key}: `;
  return `${where === "" ? "" : `${where}: `}${key}${issue.message}`;
}
