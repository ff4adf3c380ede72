/**
 * The real health checks for a device: the crypto self-test (every default algorithm has a
 * passing backend), the running config revision of the store parses and validates, and every
 * configured peer shows state "up" in the running daemon's `show peers` (asked over its control
 * socket). Secrets never appear in the reasons: config issues are reported by key and message.
 * @module
 */

import { selftest } from "../crypto/selftest.ts";
import { parseConfig } from "../config/parse.ts";
import { ConfigStore } from "../config/store.ts";
import { initCrypto } from "../crypto/registry.ts";
import { controlSocketPath } from "../daemon/control_server.ts";
import { Logger } from "../log.ts";
import { ControlClient } from "../shell/client.ts";
import type { HealthChecks } from "./health.ts";

/** Peers whose row in `show peers` output is not "up" (the table's `state` column). */
export function peersNotUp(lines: readonly string[]): string[] {
  const [head, ...rows] = lines;
  if (head === undefined || head.trim() === "no peers configured") return [];
  const cols = head.trim().split(/\s+/);
  const nameAt = cols.indexOf("peer");
  const stateAt = cols.indexOf("state");
  if (nameAt < 0 || stateAt < 0) throw new Error("unexpected `show peers` output");
  const down: string[] = [];
  for (const r of rows) {
    const cells = r.trim().split(/\s+/);
    if (cells[stateAt] !== "up") down.push(cells[nameAt] ?? "?");
  }
  return down;
}

/** Health checks against the daemon running on `stateDir`. */
export function daemonHealthChecks(stateDir: string): HealthChecks {
  return {
    selftest: async () => {
      const { missing } = selftest(await initCrypto({ allBackends: true }));
      return missing.length === 0 ? undefined : `no passing backend for ${missing.join(", ")}`;
    },
    configLoads: () => {
      const rev = ConfigStore.open(stateDir, Logger.create()).newest();
      if (rev === undefined) return Promise.resolve("no config revision in the store");
      const r = parseConfig(rev.text);
      if (r.ok) return Promise.resolve(undefined);
      const first = r.issues[0];
      return Promise.resolve(
        `revision ${rev.number}: ${
          first === undefined ? "invalid" : `${first.key} ${first.message}`
        }`,
      );
    },
    tunnelsDown: async () => {
      const c = await ControlClient.connect(controlSocketPath(stateDir));
      try {
        const r = await c.request("exec", "show peers");
        if (!r.ok) throw new Error(r.output.join("; "));
        return peersNotUp(r.output);
      } finally {
        c.close();
      }
    },
  };
}
