/**
 * Checks across fields of a schema-valid config: unique names and addresses, one PSK source,
 * lifetimes longer than rekey margins, DPD timeout after the delay, proposal syntax, and the
 * secure-default algorithm policy (no MODP-768/1024, DES or MD5 unless `profile = "legacy"`).
 * @module
 */

import type { Config, PeerConfig } from "./schema.ts";
import { proposalProblem } from "./proposals.ts";

/** A path into the config tree: keys and array indexes (`["peer", 0, "psk"]`). */
export type TreePath = readonly (string | number)[];

/** A cross-field problem, located by tree path. */
export interface CheckIssue {
  /** Where. */
  readonly path: TreePath;
  /** What. */
  readonly message: string;
}

function checkPeer(p: PeerConfig, i: number, out: CheckIssue[]): void {
  const at = (key: string, message: string) => out.push({ path: ["peer", i, key], message });
  if (p.auth === "psk") {
    if (p.psk === undefined && p.psk_file === undefined) {
      out.push({ path: ["peer", i], message: "auth psk needs psk or psk_file" });
    }
    if (p.psk !== undefined && p.psk_file !== undefined) {
      at("psk_file", "give psk or psk_file, not both");
    }
  }
  if (p.auth === "pubkey") {
    for (const k of ["cert", "key", "ca"] as const) {
      if (p[k] === undefined) out.push({ path: ["peer", i], message: `auth pubkey needs ${k}` });
    }
    for (const k of ["psk", "psk_file"] as const) {
      if (p[k] !== undefined) at(k, "only with auth psk");
    }
  } else {
    for (const k of ["cert", "key", "ca", "crl"] as const) {
      if (p[k] !== undefined) at(k, "only with auth pubkey");
    }
  }
  if (p.rekey_margin >= p.ike_lifetime) {
    at("rekey_margin", `must be less than ike_lifetime (${p.ike_lifetime})`);
  } else if (p.rekey_margin >= p.esp_lifetime) {
    at("rekey_margin", `must be less than esp_lifetime (${p.esp_lifetime})`);
  }
  if (p.start_action !== "none" && p.remote === "%any") {
    at("start_action", `'${p.start_action}' needs a remote address or DNS name, not %any`);
  }
  if (p.ike_version === 2 && p.mode !== "main") {
    at("mode", "mode is for IKEv1 only; remove it for an IKEv2 peer");
  }
  // Aggressive Mode with a PSK sends HASH_R to whoever sends a message 1 naming the identity,
  // which allows offline guessing of the key (RFC 2409 §5.4); without remote_id any identity
  // would do, so it is refused.
  if (p.ike_version === 1 && p.mode === "aggressive" && p.auth === "psk" && !p.remote_id) {
    at("mode", "aggressive mode with psk needs remote_id (or use main mode / auth pubkey)");
  }
  if (p.dpd_delay > 0 && p.dpd_timeout <= p.dpd_delay) {
    at("dpd_timeout", `must be greater than dpd_delay (${p.dpd_delay})`);
  }
  for (const kind of ["ike_proposals", "esp_proposals"] as const) {
    p[kind].forEach((text, j) => {
      const problem = proposalProblem(
        kind === "ike_proposals" ? "ike" : "esp",
        text,
        p.profile,
        p.ike_version,
      );
      if (problem !== undefined) {
        out.push({ path: ["peer", i, kind, j], message: `'${text}': ${problem}` });
      }
    });
  }
}

/**
 * Things that are allowed but weaken the gateway or do not act as written (printed by
 * `config check`, never refused): an IKEv2 dpd_timeout below 5 s is taken as 5 s.
 * Aggressive Mode with a PSK answers a spoofed message 1 with HASH_R, which allows offline
 * guessing of the key (RFC 2409 §5.4).
 */
export function configWarnings(config: Config): CheckIssue[] {
  const out: CheckIssue[] = [];
  config.peer.forEach((p, i) => {
    // The IKEv2 engine waits at least 5 s for an answer before it declares a peer dead
    // (src/ike/v2/liveness.ts: a few retransmissions, RFC 7296 §2.4).
    if (p.ike_version === 2 && p.dpd_delay > 0 && p.dpd_timeout > 0 && p.dpd_timeout < 5) {
      out.push({
        path: ["peer", i, "dpd_timeout"],
        message: `IKEv2 declares a peer dead after 5 s without an answer at the earliest, ` +
          `not ${p.dpd_timeout} s`,
      });
    }
    if (p.ike_version === 1 && p.mode === "aggressive" && p.auth === "psk") {
      out.push({
        path: ["peer", i, "mode"],
        message: "aggressive mode with psk exposes the key to offline guessing; prefer main " +
          "mode, auth pubkey or IKEv2, else a long random psk",
      });
    }
  });
  return out;
}

/** Every cross-field problem of `config` (empty when it is fine). */
export function checkConfig(config: Config): CheckIssue[] {
  const out: CheckIssue[] = [];
  const listen = new Set<string>();
  config.gateway.listen.forEach((a, j) => {
    if (listen.has(a)) out.push({ path: ["gateway", "listen", j], message: `${a} listed twice` });
    listen.add(a);
  });
  if (config.gateway.ike_port === config.gateway.natt_port) {
    out.push({ path: ["gateway", "natt_port"], message: "must differ from ike_port" });
  }
  const names = new Map<string, number>();
  const mainRemotes = new Map<string, string>();
  config.peer.forEach((p, i) => {
    const first = names.get(p.name);
    if (first !== undefined) {
      out.push({ path: ["peer", i, "name"], message: `'${p.name}' is already used` });
    }
    names.set(p.name, i);
    // RFC 2409 §5.4: in Main Mode with pre-shared keys the responder must pick the key before
    // it sees the initiator's identity, i.e. by the peer's address alone.
    if (p.ike_version === 1 && p.mode === "main" && p.auth === "psk") {
      const other = mainRemotes.get(p.remote);
      if (other !== undefined) {
        // Aggressive Mode is no fix for %any (it exposes the PSK to offline guessing).
        const hint = p.remote === "%any" ? "give each a remote address or use auth pubkey" : (
          "give each its own address"
        );
        out.push({
          path: ["peer", i, "remote"],
          message: `main mode with psk: ${p.remote} is also peer '${other}' (${hint})`,
        });
      } else {
        mainRemotes.set(p.remote, p.name);
      }
    }
    checkPeer(p, i, out);
  });
  return out;
}
