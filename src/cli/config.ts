/**
 * `branchgate config check FILE`: validates a config file (syntax, schema, cross-field rules,
 * key files) and prints each problem as `FILE:LINE: key: message`. Exit 0 when valid, 1 when
 * not, 2 on usage errors.
 * @module
 */

import { parseArgs } from "node:util";
import { loadConfigFile } from "../config/load.ts";
import { formatIssue } from "../config/issues.ts";
import { warningsFor } from "../config/parse.ts";
import type { Config } from "../config/schema.ts";
import { dirname, resolve } from "node:path";

const HELP = `usage: branchgate config check FILE

Validates FILE: TOML syntax, the schema, cross-field rules (one PSK source per peer, unique
names, lifetimes vs rekey margins), proposals and the algorithm policy (no MODP-768/1024, DES or
MD5 unless the peer sets profile = "legacy"), that every psk_file can be read, and that the
certificates, keys (mode 0600, matching the certificate) and CRLs of auth = "pubkey" peers load.
Each problem is printed as FILE:LINE: key: message.`;

/** Runs the subcommand; returns the exit code. */
export function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
  } catch (err) {
    console.error(`branchgate config: ${err instanceof Error ? err.message : String(err)}`);
    return Promise.resolve(2);
  }
  const [verb, file, ...extra] = parsed.positionals;
  if (parsed.values.help === true) {
    console.log(HELP);
    return Promise.resolve(0);
  }
  if (verb !== "check" || file === undefined || extra.length > 0) {
    console.error(HELP);
    return Promise.resolve(2);
  }
  const result = loadConfigFile(file);
  if (!result.ok) {
    for (const issue of result.issues) console.error(formatIssue(issue, file));
    const n = result.issues.length;
    console.error(`${file}: ${n} problem${n === 1 ? "" : "s"}`);
    return Promise.resolve(1);
  }
  for (const w of warningsFor(result.config, result.raw, result.text)) {
    console.error(formatIssue({ ...w, message: `warning: ${w.message}` }, file));
  }
  return checkCertificates(file, result.config).then((ok) => {
    if (!ok) return 1;
    const peers = result.config.peer.length;
    console.log(`${file}: ok (${peers} peer${peers === 1 ? "" : "s"})`);
    return 0;
  });
}

/**
 * Loads the certificates, keys and CRLs of `auth = "pubkey"` peers as the daemon will (the PKI
 * code only when a peer uses it): a key that does not match, a certificate that does not parse
 * or no trust anchor is a problem; certificates expiring within 30 days are warned about.
 */
async function checkCertificates(file: string, config: Config): Promise<boolean> {
  if (!config.peer.some((p) => p.auth === "pubkey")) return true;
  const m = await import("../daemon/pubkey_credentials.ts");
  const now = () => new Date();
  const loaded = m.loadPubkeys(config, dirname(resolve(file)), now);
  for (const [peer, why] of loaded.errors) console.error(`${file}: peer.${peer}: ${why}`);
  for (const w of m.pubkeyExpiryWarnings(loaded, now())) {
    console.error(`${file}: peer.${w.peer}: warning: ${w.line}`);
  }
  return loaded.errors.size === 0;
}
