import assert from "node:assert/strict";
import * as v from "valibot";
import { ConfigSchema } from "../../../src/config/schema.ts";
import { Dialer } from "../../../src/daemon/dialer.ts";
import { dialState } from "../../../src/daemon/ike_services.ts";
import type { IkeAction, IkeResponder } from "../../../src/ike/actions.ts";
import { Logger } from "../../../src/log.ts";
import { FakeResponder } from "./fake_responder.ts";
import { MemoryCredentials } from "../../../src/ike/auth/credentials.ts";

function peers(remote: string, start_action = "start") {
  return v.parse(ConfigSchema, {
    peer: [{
      name: "hq",
      remote,
      start_action,
      psk: "0123456789",
      local_ts: ["10.2.0.0/16"],
      remote_ts: ["10.1.0.0/16"],
    }],
  });
}

function rig(resolve: (n: string, t: "A" | "AAAA") => Promise<string[]>) {
  const config = peers("hq.example.net");
  const responder = new FakeResponder({ config, credentials: new MemoryCredentials(new Map()) });
  const lines: string[] = [];
  const log = Logger.create({
    level: "debug",
    sinks: [{ write: (_l, line) => lines.push(line), close: () => Promise.resolve() }],
  });
  let clock = 5000;
  const queries: string[] = [];
  const d = new Dialer({
    driver: {
      now: () => clock,
      input: (call: (r: IkeResponder, now: number) => IkeAction[]) => {
        call(responder, clock);
        return Promise.resolve();
      },
    },
    log,
    listen: ["192.0.2.2"],
    resolve: (n, t) => {
      queries.push(`${t} ${n}`);
      return resolve(n, t);
    },
    random: () => 0,
  });
  return { d, responder, lines, queries, tick: (ms: number) => clock += ms, config };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("dialer: a DNS name is resolved at every attempt (A first for IPv4 listen)", async () => {
  let answer = ["198.51.100.7"];
  const r = rig((_n, t) => Promise.resolve(t === "A" ? answer : []));
  try {
    r.d.configure(r.config.peer);
    await settle();
    assert.deepEqual(r.queries, ["A hq.example.net"]);
    assert.deepEqual(r.responder.calls.at(-1), {
      op: "initiate",
      peer: "hq",
      remote: "198.51.100.7",
    });
    r.d.connection({ kind: "connection", peer: "hq", event: "up", reason: "" });
    answer = ["198.51.100.8"];
    r.d.connection({ kind: "connection", peer: "hq", event: "down", reason: "dead peer" });
    await settle();
    assert.deepEqual(r.responder.calls.at(-1), {
      op: "initiate",
      peer: "hq",
      remote: "198.51.100.8",
    });
  } finally {
    r.d.stop();
  }
});

Deno.test("dialer: AAAA when there is no A record; a failed lookup backs off with the reason", async () => {
  const r = rig((_n, t) =>
    t === "AAAA" ? Promise.resolve(["2001:db8::7"]) : Promise.reject(new Error("NXDOMAIN"))
  );
  try {
    r.d.configure(r.config.peer);
    await settle();
    assert.deepEqual(r.queries, ["A hq.example.net", "AAAA hq.example.net"]);
    assert.deepEqual(r.responder.calls.at(-1), {
      op: "initiate",
      peer: "hq",
      remote: "2001:db8::7",
    });
  } finally {
    r.d.stop();
  }
  const r2 = rig(() => Promise.reject(new Error("SERVFAIL")));
  try {
    r2.d.configure(r2.config.peer);
    await settle();
    await settle();
    const view = r2.d.views()[0]!;
    assert.equal(view.state, "backoff");
    assert.match(view.lastError, /cannot resolve hq\.example\.net: .*SERVFAIL/);
    assert.equal(r2.responder.calls.filter((c) => c.op === "initiate").length, 0);
    const shown = dialState(view, r2.d.now(), { state: "down", detail: "" });
    assert.equal(shown.state, "backing off");
    assert.match(shown.detail, /^until \d\d:\d\d:\d\d UTC \(1 s\): cannot resolve/);
  } finally {
    r2.d.stop();
  }
});

Deno.test("dialer: clear re-dials a start peer; show states for connecting and trap", async () => {
  const r = rig(() => Promise.resolve(["198.51.100.7"]));
  try {
    r.d.configure(r.config.peer);
    await settle();
    r.d.connection({ kind: "connection", peer: "hq", event: "up", reason: "" });
    r.d.clear("hq");
    await settle();
    assert.equal(r.responder.calls.filter((c) => c.op === "initiate").length, 2);
    assert.equal(
      dialState(r.d.views()[0]!, r.d.now(), { state: "down", detail: "" }).state,
      "connecting",
    );
    r.d.configure(peers("198.51.100.7", "trap").peer);
    assert.equal(
      dialState(r.d.views()[0]!, r.d.now(), { state: "down", detail: "" }).state,
      "trap",
    );
  } finally {
    r.d.stop();
  }
});
