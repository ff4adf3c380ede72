/**
 * The real health checks' wiring: `show peers` asked over a control socket (a fake daemon that
 * speaks the control protocol), the config store's running revision, the crypto self-test.
 * @module
 */

import assert from "node:assert/strict";
import { ConfigStore } from "../../../src/config/store.ts";
import { controlSocketPath } from "../../../src/daemon/control_server.ts";
import { encodeLine, LineSplitter, parseRequest } from "../../../src/control/protocol.ts";
import { Logger } from "../../../src/log.ts";
import { daemonHealthChecks } from "../../../src/update/daemon_health.ts";
import { runHealthCheck } from "../../../src/update/health.ts";
import { peersTable } from "../../../src/shell/views.ts";

const GOOD = Deno.readTextFileSync(new URL("../config/good.toml", import.meta.url))
  .replace(/psk_file = "kiosk.psk"/, 'psk = "another secret phrase"');

/** A fake daemon answering `show peers` with `states()` (name → state). */
function fakeDaemon(path: string, states: () => Record<string, string>) {
  const listener = Deno.listen({ transport: "unix", path });
  const asked: string[] = [];
  const conns: Deno.Conn[] = [];
  const loop = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      (async () => {
        const split = new LineSplitter();
        try {
          for await (const chunk of conn.readable) {
            for (const line of split.push(chunk)) {
              const req = parseRequest(line);
              asked.push(req.line);
              // The daemon's own table renderer, so the parser reads what it really prints.
              const output = peersTable(
                Object.entries(states()).map(([name, state]) => ({
                  name,
                  remote: "198.51.100.1",
                  mode: "main",
                  state,
                  ikeSas: state === "up" ? 1 : 0,
                  espSas: state === "up" ? 2 : 0,
                  detail: state === "up" ? "" : "retransmit 2 of 5",
                })),
              );
              await conn.write(
                encodeLine({ id: req.id, output, ok: true, end: false, prompt: "> " }),
              );
            }
          }
        } catch {
          // client went away
        }
      })();
    }
  })();
  return {
    asked,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed by the client
        }
      }
      await loop.catch(() => {});
    },
  };
}

Deno.test("daemon health: tunnels from show peers over the control socket, until up or timeout", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bg-health-" });
  let polls = 0;
  const daemon = fakeDaemon(controlSocketPath(dir), () => {
    polls++;
    return { hq: polls >= 3 ? "up" : "connecting", roadshow: "up" };
  });
  try {
    const checks = daemonHealthChecks(dir);
    assert.deepEqual(await checks.tunnelsDown(), ["hq"]);
    assert.deepEqual(daemon.asked, ["show peers"]);
    const r = await runHealthCheck({ ...checks, selftest: () => Promise.resolve(undefined) }, {
      timeoutMs: 5000,
      pollMs: 10,
      // configLoads fails first: no revision yet.
    });
    assert.deepEqual(r, { ok: false, reason: "config: no config revision in the store" });
    ConfigStore.open(dir, Logger.create()).commit(GOOD, "test", "initial");
    assert.equal(await checks.configLoads(), undefined);
    const up = await runHealthCheck(checks, { timeoutMs: 5000, pollMs: 10 });
    assert.deepEqual(up, { ok: true }, "self-test passes, config loads, tunnels up");
    // A config that does not validate: the reason names the key, never the secret.
    ConfigStore.open(dir, Logger.create()).commit(
      GOOD.replace('mode = "main"', 'mode = "fast"'),
      "t",
      "bad",
    );
    const why = await checks.configLoads();
    assert.match(why ?? "", /revision 2: .*mode/);
    assert.ok(!(why ?? "").includes("correct horse"));
  } finally {
    await daemon.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("daemon health: no daemon means the tunnel check fails with a clear reason", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bg-health-" });
  try {
    const r = await runHealthCheck({
      ...daemonHealthChecks(dir),
      selftest: () => Promise.resolve(undefined),
      configLoads: () => Promise.resolve(undefined),
    }, { timeoutMs: 10, pollMs: 5 });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : "", /^tunnels: cannot reach the daemon .*no control socket/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
