import assert from "node:assert/strict";
import * as v from "valibot";
import { ConfigSchema } from "../../../src/config/schema.ts";
import { trapPeersFor, trapRoutes } from "../../../src/daemon/traps.ts";

const config = v.parse(ConfigSchema, {
  peer: [
    ["hq", "trap", ["10.1.0.0/16", "172.16.0.0-172.16.0.255"]],
    ["shop", "start", ["10.9.0.0/16"]],
    ["lab", "trap", ["10.1.2.0/24"]],
  ].map(([name, start_action, remote_ts]) => ({
    name,
    remote: "hq.example.net",
    start_action,
    psk: "0123456789",
    local_ts: ["10.2.0.0/16"],
    remote_ts,
  })),
});

Deno.test("trap routes: only trap peers' remote_ts", () => {
  const r = trapRoutes(config.peer);
  assert.equal(r.length, 2);
  assert.deepEqual(r[0]!.selectors.map((s) => s.startAddress), ["10.1.0.0", "172.16.0.0"]);
});

Deno.test("an uncovered destination dials the trap peers whose remote_ts holds it", () => {
  assert.deepEqual(trapPeersFor(config.peer, "10.1.2.3"), ["hq", "lab"]);
  assert.deepEqual(trapPeersFor(config.peer, "172.16.0.9"), ["hq"]);
  assert.deepEqual(trapPeersFor(config.peer, "10.9.0.1"), [], "a start peer is not trapped");
  assert.deepEqual(trapPeersFor(config.peer, "not an address"), []);
});
