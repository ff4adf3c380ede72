/**
 * The IKE services over the real data path Worker (a socket pair instead of the TUN device, no
 * root) and real loopback UDP sockets, with a scripted responder: IKE on the IKE port and on the
 * NAT-T port (behind the non-ESP marker) reaches the responder with the right local endpoint and
 * its answers go back out the same way; installed SAs show with the data path's counters; a
 * commit that changes peers only hands over the policy; one that changes the ports restarts the
 * I/O; clear and shutdown reach the responder.
 */

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { validateTree } from "../../../src/config/parse.ts";
import type { Config } from "../../../src/config/schema.ts";
import { diffConfigs } from "../../../src/daemon/config_diff.ts";
import { IkeServices } from "../../../src/daemon/ike_services.ts";
import { startDataPath } from "../../../src/esp/datapath.ts";
import type { EspSaSpec } from "../../../src/esp/sa_spec.ts";
import type { IkeAction } from "../../../src/ike/actions.ts";
import { Logger } from "../../../src/log.ts";
import { closeFd, openPacketPair } from "../../../hw/packet_pair.ts";
import { FakeResponder } from "./fake_responder.ts";

function config(ikePort: number, nattPort: number, peers = ["hq"]): Config {
  const r = validateTree({
    gateway: { listen: ["127.0.0.1"], ike_port: ikePort, natt_port: nattPort },
    peer: peers.map((name, i) => ({
      name,
      remote: i === 0 ? "127.0.0.1" : `198.51.100.${i + 10}`,
      psk: "correct horse battery",
      local_ts: ["198.51.100.0/24"],
      remote_ts: ["203.0.113.0/24"],
    })),
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function spec(spi: number, direction: "in" | "out", peerPort: number, natt: number): EspSaSpec {
  return {
    spi,
    direction,
    peer: "hq",
    childId: "c1",
    transform: { kind: "aead", alg: "aes128gcm16" },
    keyMaterial: Uint8Array.from({ length: 20 }, (_, i) => i + spi),
    endpoints: {
      local: "127.0.0.1",
      remote: "127.0.0.1",
      encap: { localPort: natt, remotePort: peerPort },
    },
    localSelectors: [{
      startAddress: "198.51.100.0",
      endAddress: "198.51.100.255",
      protocol: 0,
      startPort: 0,
      endPort: 65535,
    }],
    remoteSelectors: [{
      startAddress: "203.0.113.0",
      endAddress: "203.0.113.255",
      protocol: 0,
      startPort: 0,
      endPort: 65535,
    }],
    esn: false,
    replayWindow: 64,
    lifetime: { softSeconds: 0, hardSeconds: 0, softBytes: 0, hardBytes: 0 },
  };
}

/** A UDP "peer" that collects what it receives. */
async function udpPeer() {
  const got: Uint8Array[] = [];
  const s = dgram.createSocket("udp4");
  s.on("message", (m: Uint8Array) => got.push(new Uint8Array(m)));
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  return {
    port: s.address().port,
    got,
    send: (d: Uint8Array, port: number) => s.send(d, port, "127.0.0.1"),
    close: () => s.close(),
  };
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("IKE on both ports reaches the responder; answers, SAs and commits", async () => {
  const [fd, other] = openPacketPair();
  const responders: FakeResponder[] = [];
  const log = Logger.create({ level: "debug" });
  const services = new IkeServices({
    log,
    createResponder: (p) => {
      const r = new FakeResponder(p);
      responders.push(r);
      return r;
    },
    startDataPath: (o) => startDataPath(o),
    rawEsp: false,
    packetFd: fd,
    drainMs: 20,
  });
  const peer = await udpPeer();
  try {
    const [ike, natt] = [await freePort(), await freePort()];
    const c1 = config(ike, natt);
    const first = await services.apply(c1, new Map(), diffConfigs(undefined, c1));
    assert.match(first.join("\n"), new RegExp(`IKEv1 responder on 127.0.0.1:${ike}`));
    const r = responders[0]!;
    r.onHandle = (data, local, remote): IkeAction[] => {
      const reply = new Uint8Array([...data].reverse());
      if (local.port !== natt) return [{ kind: "send", datagram: reply, local, remote }];
      return [
        { kind: "installSa", spec: spec(0x1111, "in", remote.port, natt) },
        { kind: "installSa", spec: spec(0x2222, "out", remote.port, natt) },
        { kind: "send", datagram: reply, local, remote },
      ];
    };
    const msg = Uint8Array.from({ length: 28 }, (_, i) => i + 1);
    peer.send(msg, ike);
    await until("the port-500 answer", () => peer.got.length === 1);
    assert.deepEqual(peer.got[0], new Uint8Array([...msg].reverse()));
    const h = r.calls[0];
    assert.ok(h?.op === "handle");
    assert.deepEqual(h.local, { address: "127.0.0.1", port: ike });
    assert.deepEqual(h.remote, { address: "127.0.0.1", port: peer.port });

    peer.send(new Uint8Array([0, 0, 0, 0, ...msg]), natt);
    await until("the NAT-T answer", () => peer.got.length === 2);
    assert.deepEqual(peer.got[1], new Uint8Array([0, 0, 0, 0, ...[...msg].reverse()]));
    const h2 = r.calls[1];
    assert.ok(h2?.op === "handle");
    assert.deepEqual(h2.data, msg, "the marker is removed before the responder");
    assert.equal(h2.local.port, natt);

    r.children = [{
      peer: "hq",
      childId: "c1",
      inboundSpi: 0x1111,
      outboundSpi: 0x2222,
      transform: "aes128gcm16",
      localTs: "198.51.100.0/24",
      remoteTs: "203.0.113.0/24",
      encap: true,
      pfsGroup: 0,
      state: "installed",
      ageSeconds: 1,
    }];
    await until("counters", () => services.dataPath!.counters().length === 2);
    const esp = services.espSas();
    assert.deepEqual(esp.map((e) => [e.direction, e.spi, e.packets]), [
      ["in", 0x1111, 0],
      ["out", 0x2222, 0],
    ]);
    assert.deepEqual(services.peers(c1).map((p) => [p.name, p.state, p.espSas]), [
      ["hq", "up", 2],
    ]);

    // `show drops`: IKEv1 reasons under "ike", the dual engine's "ikev2/…" under "ikev2".
    r.dropCounts = new Map([["undecodable", 2], ["ikev2/no-sa", 7]]);
    const drops = services.drops().filter((d) => d.layer.startsWith("ike"));
    assert.deepEqual(drops, [
      { layer: "ike", reason: "undecodable", count: 2 },
      { layer: "ikev2", reason: "no-sa", count: 7 },
    ]);

    const c2 = config(ike, natt, ["hq", "branch2"]);
    assert.deepEqual(await services.apply(c2, new Map(), diffConfigs(c1, c2)), []);
    assert.equal(responders.length, 1, "a peer change keeps the responder and its SAs");
    assert.ok(r.calls.some((c) => c.op === "setPolicy" && c.policy.config.peer.length === 2));

    assert.match(await services.clearIkeSa("hq"), /peer hq: 0 IKE SA\(s\) and 1 ESP SA pair/);
    assert.ok(r.calls.some((c) => c.op === "deletePeer" && c.peer === "hq"));

    const ike2 = await freePort();
    const c3 = config(ike2, natt, ["hq", "branch2"]);
    const lines = await services.apply(c3, new Map(), diffConfigs(c2, c3));
    assert.match(lines[0]!, /gateway: ike_port changed: every SA deleted, I\/O restarted/);
    assert.ok(r.calls.some((c) => c.op === "shutdown"));
    assert.equal(responders.length, 2);
    responders[1]!.onHandle = (data, local, remote): IkeAction[] => [
      { kind: "send", datagram: data, local, remote },
    ];
    peer.send(msg, ike2);
    await until("an answer on the new port", () => peer.got.length === 3);
  } finally {
    await services.shutdown();
    peer.close();
    closeFd(fd);
    closeFd(other);
  }
  assert.ok(responders[1]!.calls.some((c) => c.op === "shutdown"));
});
