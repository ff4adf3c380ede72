/**
 * The data path through its handle, run in the main isolate and in its Worker, without root: a socketpair stands in for
 * the TUN device and a loopback UDP socket with its own SA database for the far gateway.
 * Packets cross in both directions over ESP-in-UDP (AEAD and CBC+HMAC); IKE shares the port
 * behind the Non-ESP Marker; NAT keepalives go out when the tunnel is idle; a replayed ESP
 * datagram is dropped and counted; lifetimes and bad specs are reported.
 */

import assert from "node:assert/strict";
import {
  DataPathError,
  type DataPathHandle,
  type DataPathOptions,
  startDataPath,
} from "../../../src/esp/datapath.ts";
import type { EspLifetimeEvent, EspSaSpec } from "../../../src/esp/sa_spec.ts";
import { udp4 } from "../../fakes/packets.ts";
import { parseIp } from "../../../src/net/addr.ts";
import { IKE_IN_FLIGHT_MAX } from "../../../src/esp/worker_protocol.ts";
import { IKE_SOURCE_BURST } from "../../../src/esp/ike_gate.ts";
import { eventually, FakePeer, FakeTun, sleep } from "../../fakes/esp_peer.ts";
import { BRANCH, HQ, NO_LIMITS } from "./sad_fixtures.ts";

/** An SA as seen from the data path's side ("out": branch → HQ). */
function spec(
  spi: number,
  direction: "in" | "out",
  ports: { mine: number; peer: number },
  over: Partial<EspSaSpec> = {},
): EspSaSpec {
  return {
    spi,
    direction,
    peer: "hq",
    childId: `child-${spi}`,
    transform: { kind: "aead", alg: "aes128gcm16" },
    keyMaterial: Uint8Array.from({ length: 20 }, (_, i) => (spi * 3 + i) & 0xff),
    endpoints: {
      local: "127.0.0.1",
      remote: "127.0.0.1",
      encap: { localPort: ports.mine, remotePort: ports.peer },
    },
    localSelectors: [BRANCH],
    remoteSelectors: [HQ],
    esn: false,
    replayWindow: 64,
    lifetime: NO_LIMITS,
    ...over,
  };
}

/** The same SA from the peer's side (selectors swapped, direction flipped). */
function mirrored(s: EspSaSpec): EspSaSpec {
  return {
    ...s,
    direction: s.direction === "in" ? "out" : "in",
    localSelectors: s.remoteSelectors,
    remoteSelectors: s.localSelectors,
  };
}

type Runner = "main" | "worker";

/** Registers `body` once per runner: the main isolate (the default) and the Worker. */
function both(name: string, body: (runner: Runner) => Promise<void>): void {
  for (const runner of ["main", "worker"] as const) {
    Deno.test(`${name} [${runner}]`, () => body(runner));
  }
}

/** The options the tests start from: a socketpair for the TUN device, NAT-T on a free port. */
function options(
  runner: Runner,
  tun: FakeTun,
  over: Partial<DataPathOptions> = {},
): DataPathOptions {
  return {
    runner,
    tunName: "bgtest0",
    mtu: 1400,
    listen: ["127.0.0.1"],
    natPort: 0,
    rawEsp: false,
    keepaliveSeconds: 0,
    packetFd: tun.deviceFd,
    ...over,
  };
}

async function withDataPath(
  runner: Runner,
  keepaliveSeconds: number,
  body: (dp: DataPathHandle, tun: FakeTun, peer: FakePeer, port: number) => Promise<void>,
  loopback = "127.0.0.1",
): Promise<void> {
  const tun = new FakeTun();
  const peer = new FakePeer(parseIp(loopback));
  let dp: DataPathHandle | undefined;
  try {
    dp = await startDataPath(options(runner, tun, { listen: [loopback], keepaliveSeconds }));
    assert.equal(dp.endpoints.length, 1);
    assert.equal(dp.endpoints[0]!.address, loopback);
    await body(dp, tun, peer, dp.endpoints[0]!.port);
  } finally {
    await dp?.stop();
    peer.close();
    tun.close();
  }
}

both("packets cross the Worker both ways over ESP-in-UDP, with counters", async (runner) => {
  await withDataPath(runner, 0, async (dp, tun, peer, port) => {
    const ports = { mine: port, peer: peer.port };
    for (
      const [spi, t] of [
        [0x1001, { kind: "aead", alg: "aes128gcm16" }],
        [0x1002, { kind: "cipher+mac", cipher: "aes256cbc", mac: "hmac-sha256-128" }],
      ] as const
    ) {
      const keyMaterial = Uint8Array.from(
        { length: t.kind === "aead" ? 20 : 64 },
        (_, i) => (spi + 7 * i) & 0xff,
      );
      const out = spec(spi, "out", ports, { transform: t, keyMaterial });
      const inb = spec(spi + 0x100, "in", ports, {
        transform: t,
        keyMaterial,
        localSelectors: [BRANCH],
        remoteSelectors: [HQ],
      });
      await dp.installSa(out);
      await dp.installSa(inb);
      peer.install(mirrored(out));
      peer.install(mirrored(inb));

      // Branch host → HQ host: into the TUN, out as ESP to the peer.
      const inner = udp4("198.51.100.5", "203.0.113.7", { payload: 1000 });
      assert.ok(tun.inject(inner));
      const got = await eventually(() => {
        const r = peer.receive();
        return r.length > 0 ? r : undefined;
      });
      assert.equal(got.length, 1);
      assert.equal(got[0]!.port, port, "ESP leaves from the NAT-T socket");
      assert.deepEqual(peer.decapsulate(got[0]!.data), inner);

      // HQ host → branch host: ESP from the peer, out of the TUN.
      const back = udp4("203.0.113.7", "198.51.100.5", { payload: 333 });
      assert.ok(peer.send(peer.encapsulate(back), port));
      const written = await eventually(() => {
        const r = tun.drain();
        return r.length > 0 ? r : undefined;
      });
      assert.deepEqual(written, [back]);

      // Dropped, never thrown: the peer's SA removed, traffic for it is no policy.
      await dp.deleteSa(spi, "out");
      peer.sad.remove(spi, "in");
      peer.sad.remove(spi + 0x100, "out");
    }
    const snap = await dp.snapshot();
    assert.equal(snap.stats.tunIn, 2);
    assert.equal(snap.stats.espOut, 2);
    assert.equal(snap.stats.espIn, 2);
    assert.equal(snap.stats.tunOut, 2);
    const inbound = snap.sas.filter((s) => s.direction === "in");
    assert.deepEqual(inbound.map((s) => [s.spi, s.packets, s.bytes]), [
      [0x1101, 1, 361],
      [0x1102, 1, 361],
    ]);
    assert.deepEqual(dp.counters(), snap.sas);
    assert.ok(tun.inject(udp4("198.51.100.5", "203.0.113.7")));
    await eventually(() => dp.stats().noPolicy === 1 ? true : undefined);
  });
});

both(
  "a rekey during traffic loses nothing: make-before-break through the Worker",
  async (runner) => {
    await withDataPath(runner, 0, async (dp, tun, peer, port) => {
      const ports = { mine: port, peer: peer.port };
      const old = spec(0x7001, "out", ports);
      const fresh = spec(0x7002, "out", ports);
      peer.install(mirrored(old));
      peer.install(mirrored(fresh));
      await dp.installSa(old);
      const delivered: Uint8Array[] = [];
      const collect = () => {
        for (const r of peer.receive()) {
          const inner = peer.decapsulate(r.data);
          if (inner !== undefined) delivered.push(inner);
        }
      };
      const burst = async (from: number) => {
        for (let i = from; i < from + 50; i++) {
          const p = udp4("198.51.100.5", "203.0.113.7", { sport: 1000 + i, payload: 200 });
          assert.ok(await tun.injectWhenRoom(p));
          collect();
        }
      };
      await burst(0);
      const rekey = dp.installSa(fresh); // while packets are still in flight
      await burst(50);
      await rekey;
      await burst(100);
      await dp.deleteSa(0x7001, "out");
      await burst(150);
      await eventually(() => {
        collect();
        return delivered.length >= 200 ? true : undefined;
      });
      const sent = delivered.map((p) => ((p[20]! << 8) | p[21]!) - 1000).sort((a, b) => a - b);
      assert.deepEqual(sent, Array.from({ length: 200 }, (_, i) => i));
      const out = (await dp.snapshot()).sas.filter((c) => c.direction === "out");
      assert.deepEqual(out.map((c) => c.spi), [0x7002]);
      assert.ok(out[0]!.packets >= 100);
    });
  },
);

both("ESP-in-UDP over an IPv6 outer header (RFC 3948 over ::1)", async (runner) => {
  await withDataPath(runner, 0, async (dp, tun, peer, port) => {
    const v6 = { local: "::1", remote: "::1", encap: { localPort: port, remotePort: peer.port } };
    const out = spec(0x6001, "out", { mine: port, peer: peer.port }, { endpoints: v6 });
    const inb = spec(0x6002, "in", { mine: port, peer: peer.port }, { endpoints: v6 });
    await dp.installSa(out);
    await dp.installSa(inb);
    peer.install(mirrored(out));
    peer.install(mirrored(inb));
    const inner = udp4("198.51.100.5", "203.0.113.7", { payload: 1300 });
    assert.ok(tun.inject(inner));
    const got = await eventually(() => {
      const r = peer.receive();
      return r.length > 0 ? r : undefined;
    });
    assert.deepEqual(peer.decapsulate(got[0]!.data), inner);
    const back = udp4("203.0.113.7", "198.51.100.5", { payload: 10 });
    assert.ok(peer.send(peer.encapsulate(back), port));
    assert.deepEqual(
      await eventually(() => {
        const r = tun.drain();
        return r.length > 0 ? r : undefined;
      }),
      [back],
    );
    // An IPv4 SA has no socket on this IPv6-only data path.
    await assert.rejects(
      dp.installSa(spec(0x6003, "out", { mine: port, peer: peer.port })),
      /no UDP socket on port \d+ for local address 127\.0\.0\.1/,
    );
  }, "::1");
});

both("IKE shares the NAT-T port behind the Non-ESP Marker; replays are counted", async (runner) => {
  await withDataPath(runner, 0, async (dp, _tun, peer, port) => {
    const seen: { data: Uint8Array; local: unknown; remote: unknown }[] = [];
    dp.onIkePacket((data, local, remote) => seen.push({ data, local, remote }));
    const ike = Uint8Array.from({ length: 40 }, (_, i) => i + 1);
    assert.ok(peer.send(new Uint8Array([0, 0, 0, 0, ...ike]), port));
    await eventually(() => (seen.length > 0 ? true : undefined));
    assert.deepEqual(seen[0], {
      data: ike,
      local: { address: "127.0.0.1", port },
      remote: { address: "127.0.0.1", port: peer.port },
    });

    dp.sendIke(ike, { address: "127.0.0.1", port }, { address: "127.0.0.1", port: peer.port });
    const got = await eventually(() => {
      const r = peer.receive();
      return r.length > 0 ? r : undefined;
    });
    assert.deepEqual(got[0]!.data, new Uint8Array([0, 0, 0, 0, ...ike]));

    // A keepalive from the peer, and junk, are counted; an ESP datagram sent twice is a replay.
    const inb = spec(0x2001, "in", { mine: port, peer: peer.port }, {
      localSelectors: [BRANCH],
      remoteSelectors: [HQ],
    });
    await dp.installSa(inb);
    peer.install(mirrored(inb));
    const esp = peer.encapsulate(udp4("203.0.113.7", "198.51.100.5"));
    assert.ok(peer.send(esp, port));
    assert.ok(peer.send(esp, port));
    assert.ok(peer.send(new Uint8Array([0xff]), port));
    assert.ok(peer.send(new Uint8Array([1, 2]), port));
    await eventually(() =>
      dp.counters().some((c) => c.spi === 0x2001 && c.replayDrops === 1) ? true : undefined
    );
    const snap = await dp.snapshot();
    const sa = snap.sas.find((c) => c.spi === 0x2001)!;
    assert.equal(sa.packets, 1);
    assert.equal(sa.replayDrops, 1);
    assert.equal(snap.stats.keepalivesIn, 1);
    assert.equal(snap.stats.invalid, 1);
    assert.equal(snap.stats.ikeIn, 1);
    assert.equal(snap.stats.ikeOut, 1);
  });
});

both(
  "on a wildcard listen address, IKE is reported with the address it was sent to",
  async (runner) => {
    const tun = new FakeTun();
    const peer = new FakePeer();
    const dp = await startDataPath(options(runner, tun, { listen: ["0.0.0.0"] }));
    try {
      const port = dp.endpoints[0]!.port;
      assert.deepEqual(dp.endpoints, [{ address: "0.0.0.0", port }]);
      const seen: unknown[] = [];
      dp.onIkePacket((_data, local, remote) => seen.push({ local, remote }));
      assert.ok(peer.send(new Uint8Array(32), port)); // marker and a 28-byte IKE header
      await eventually(() => (seen.length > 0 ? true : undefined));
      assert.deepEqual(seen[0], {
        local: { address: "127.0.0.1", port },
        remote: { address: "127.0.0.1", port: peer.port },
      });
      // An SA for a specific local address leaves through the wildcard socket.
      const out = spec(0x5001, "out", { mine: port, peer: peer.port });
      await dp.installSa(out);
      peer.install(mirrored(out));
      const inner = udp4("198.51.100.5", "203.0.113.7");
      assert.ok(tun.inject(inner));
      const got = await eventually(() => {
        const r = peer.receive();
        return r.length > 0 ? r : undefined;
      });
      assert.deepEqual(peer.decapsulate(got[0]!.data), inner);
    } finally {
      await dp.stop();
      peer.close();
      tun.close();
    }
  },
);

both("NAT keepalives go to an idle ESP-in-UDP peer (RFC 3948 §2.3)", async (runner) => {
  await withDataPath(runner, 0.2, async (dp, _tun, peer, port) => {
    await dp.installSa(spec(0x3001, "out", { mine: port, peer: peer.port }));
    const got: Uint8Array[] = [];
    await eventually(() => {
      got.push(...peer.receive().map((r) => r.data));
      return got.length >= 2 ? true : undefined;
    });
    for (const r of got) assert.deepEqual(r, new Uint8Array([0xff]));
    assert.ok((await dp.snapshot()).stats.keepalivesOut >= 2);
  });
});

both("lifetimes reach the main thread; bad specs are refused with the reason", async (runner) => {
  await withDataPath(runner, 0, async (dp, _tun, peer, port) => {
    const events: EspLifetimeEvent[] = [];
    dp.onLifetime((e) => events.push(e));
    const ports = { mine: port, peer: peer.port };
    await dp.installSa(
      spec(0x4001, "out", ports, { lifetime: { ...NO_LIMITS, softSeconds: 1, hardSeconds: 3 } }),
    );
    await assert.rejects(
      dp.installSa(spec(0x4001, "out", ports)),
      (e) => e instanceof DataPathError && /SPI in use/.test(e.message),
    );
    await assert.rejects(
      dp.installSa(spec(0x4002, "out", ports, { keyMaterial: new Uint8Array(3) })),
      /needs 20 bytes/,
    );
    await assert.rejects(
      dp.installSa(spec(0x4003, "out", { mine: 1, peer: 4500 })),
      /no UDP socket on port 1/,
    );
    await eventually(() => (events.length >= 2 ? true : undefined), 6000);
    assert.deepEqual(events.map((e) => `${e.kind}:${e.spi}:${e.childId}`), [
      "soft:16385:child-16385",
      "hard:16385:child-16385",
    ]);
    assert.equal(await dp.deleteSa(0x4001, "out"), false, "the hard limit removed it already");
    assert.equal((await dp.snapshot()).sas.length, 0);
  });
});

both("start-up errors are typed and leave nothing behind", async (runner) => {
  const tun = new FakeTun();
  try {
    await assert.rejects(
      startDataPath(options(runner, tun, { tunName: "bad name" })),
      DataPathError,
    );
    await assert.rejects(
      // Not an address of this host: bind fails.
      startDataPath(options(runner, tun, { tunName: "x", listen: ["192.0.2.77"] })),
      (e) => e instanceof DataPathError && /bind/.test(e.message),
    );
  } finally {
    tun.close();
  }
  await sleep(0);
});

both(
  "ESP-in-UDP follows a new peer address only for packets that authenticated and were new",
  async (runner) => {
    await withDataPath(runner, 0, async (dp, tun, peer, port) => {
      const ports = { mine: port, peer: peer.port };
      const out = spec(0x3001, "out", ports, { childId: "child-nat" });
      const inb = spec(0x3101, "in", ports, { childId: "child-nat" });
      await dp.installSa(out);
      await dp.installSa(inb);
      peer.install(mirrored(out));
      peer.install(mirrored(inb));
      // The same peer behind a NAT whose mapping changed, or an attacker: another address.
      const other = new FakePeer(new Uint8Array([127, 0, 0, 2]));
      const gw = new Uint8Array([127, 0, 0, 1]);
      try {
        const toPeer = async (who: FakePeer, n: number) => {
          assert.ok(tun.inject(udp4("198.51.100.5", "203.0.113.7", { payload: 100 + n })));
          const got = await eventually(() => {
            const r = who.receive();
            return r.length > 0 ? r : undefined;
          });
          assert.equal(got.length, 1);
        };
        const delivered = async (n: number) =>
          await eventually(() => (dp.stats().tunOut === n ? true : undefined));
        const first = peer.encapsulate(udp4("203.0.113.7", "198.51.100.5"));
        assert.ok(peer.send(first, port));
        await delivered(1);
        // Forged: right SPI, fresh sequence number, bad ICV. Replayed: the genuine packet again.
        const forged = peer.encapsulate(udp4("203.0.113.7", "198.51.100.5"));
        forged[forged.length - 1] = forged[forged.length - 1]! ^ 1;
        assert.ok(other.socket.sendTo(forged, gw, port));
        assert.ok(other.socket.sendTo(first, gw, port));
        await eventually(() =>
          dp.counters().some((c) => c.spi === 0x3101 && c.icvFailures === 1 && c.replayDrops === 1)
            ? true
            : undefined
        );
        assert.equal(dp.stats().natMoves, 0);
        await toPeer(peer, 1);
        assert.equal(other.receive().length, 0);
        // A genuine packet with a new sequence number from the new address moves the SA there.
        const genuine = peer.encapsulate(udp4("203.0.113.7", "198.51.100.5"));
        assert.ok(other.socket.sendTo(genuine, gw, port));
        await delivered(2);
        assert.equal(dp.stats().natMoves, 1);
        await toPeer(other, 2);
        assert.equal(peer.receive().length, 0);
      } finally {
        other.close();
      }
    });
  },
);

both(
  "a flood of IKE datagrams on the NAT-T port is bounded: in flight to the main thread, per source",
  async (runner) => {
    await withDataPath(runner, 0, async (dp, _tun, peer, port) => {
      let seen = 0;
      dp.onIkePacket(() => seen++);
      const N = 500;
      const ike = new Uint8Array([0, 0, 0, 0, ...Array.from({ length: 40 }, (_, i) => i + 1)]);
      for (let i = 0; i < N; i++) assert.ok(peer.send(ike, port));
      if (runner === "worker") {
        // Keep the main thread busy while the Worker takes the datagrams in.
        const until = performance.now() + 500;
        while (performance.now() < until) { /* busy */ }
      }
      const total = await eventually(() => {
        const s = dp.stats();
        return seen + s.ikeQueueDrops === N ? s : undefined;
      }, 10_000);
      if (runner === "worker") {
        // At most IKE_IN_FLIGHT_MAX wait between the threads.
        assert.ok(
          total.ikeQueueDrops >= N - 2 * IKE_IN_FLIGHT_MAX,
          `dropped ${total.ikeQueueDrops}`,
        );
        assert.ok(seen <= 2 * IKE_IN_FLIGHT_MAX && seen >= IKE_IN_FLIGHT_MAX, `seen ${seen}`);
      } else {
        // Handed over at once: the one source is held to its burst (plus what refills).
        assert.ok(seen >= IKE_SOURCE_BURST && seen <= IKE_SOURCE_BURST + 50, `seen ${seen}`);
      }
      // Once drained (and refilled), IKE flows again.
      await sleep(50);
      const before = seen;
      assert.ok(peer.send(ike, port));
      await eventually(() => (seen === before + 1 ? true : undefined));
    });
  },
);

both(
  "plain IKE (port 500 role) goes through the Worker: no marker either way, same bounded queue",
  async (runner) => {
    const tun = new FakeTun();
    const peer = new FakePeer();
    const dp = await startDataPath(options(runner, tun, { ikePort: 0 }));
    try {
      assert.equal(dp.ikeEndpoints?.length, 1);
      const ikePort = dp.ikeEndpoints![0]!.port;
      assert.notEqual(ikePort, dp.endpoints[0]!.port);
      const seen: { data: Uint8Array; local: unknown; remote: unknown }[] = [];
      dp.onIkePacket((data, local, remote) => seen.push({ data, local, remote }));
      // An ISAKMP header starts with the initiator cookie: no Non-ESP Marker on this port.
      const ike = Uint8Array.from({ length: 36 }, (_, i) => i + 1);
      assert.ok(peer.send(ike, ikePort));
      await eventually(() => (seen.length > 0 ? true : undefined));
      assert.deepEqual(seen[0], {
        data: ike,
        local: { address: "127.0.0.1", port: ikePort },
        remote: { address: "127.0.0.1", port: peer.port },
      });
      dp.sendIke(ike, { address: "127.0.0.1", port: ikePort }, {
        address: "127.0.0.1",
        port: peer.port,
      });
      const got = await eventually(() => {
        const r = peer.receive();
        return r.length > 0 ? r : undefined;
      });
      assert.deepEqual(got[0]!.data, ike);
      assert.equal(got[0]!.port, ikePort);
    } finally {
      await dp.stop();
      peer.close();
      tun.close();
    }
  },
);

both(
  "trap: packets for a trap peer wait in the data path and leave once its SA is in",
  async (runner) => {
    await withDataPath(runner, 0, async (dp, tun, peer, port) => {
      await dp.setTrapRoutes!([{ remote: "127.0.0.1", selectors: [HQ] }]);
      const first = [1, 2, 3].map((i) => udp4("198.51.100.5", "203.0.113.7", { sport: i }));
      for (const p of first) assert.ok(tun.inject(p));
      // Not a trap destination: dropped as before.
      assert.ok(tun.inject(udp4("198.51.100.5", "192.0.2.77")));
      await eventually(() => dp.stats().noPolicy === 4 ? true : undefined);
      await dp.snapshot();
      assert.equal(dp.stats().trapHeld, 3);
      assert.equal(peer.receive().length, 0, "nothing leaves without an SA");
      const out = spec(0x5001, "out", { mine: port, peer: peer.port });
      peer.install(mirrored(out));
      await dp.installSa(out);
      const got: Uint8Array[] = [];
      await eventually(() => {
        for (const r of peer.receive()) got.push(peer.decapsulate(r.data)!);
        return got.length >= 3 ? true : undefined;
      });
      assert.deepEqual(got, first, "held packets sent in order through the new SA");
      const s = (await dp.snapshot()).stats;
      assert.deepEqual([s.trapHeld, s.trapSent, s.trapOverflow, s.trapExpired], [3, 3, 0, 0]);
    });
  },
);

both(
  "rekey on standby: the peer's first packet on the new pair switches the data path; IKE's install afterwards is no error",
  async (runner) => {
    await withDataPath(runner, 0, async (dp, tun, peer, port) => {
      const ports = { mine: port, peer: peer.port };
      const old = spec(0x8001, "out", ports);
      peer.install(mirrored(old));
      await dp.installSa(old);
      // The new pair: inbound 0x9002 and, on standby for its first packet, outbound 0x8002.
      const inb = spec(0x9002, "in", ports);
      const fresh = spec(0x8002, "out", ports);
      await dp.installSa(inb);
      await dp.installSa({ ...fresh, activateOn: 0x9002 });
      peer.install(mirrored(inb));
      peer.install(mirrored(fresh));
      const sentOn = async () => {
        assert.ok(tun.inject(udp4("198.51.100.5", "203.0.113.7")));
        const got = await eventually(() => {
          const r = peer.receive();
          return r.length > 0 ? r : undefined;
        });
        const d = got[0]!.data;
        return ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
      };
      assert.equal(await sentOn(), 0x8001, "standby carries nothing yet");
      assert.ok(peer.send(peer.encapsulate(udp4("203.0.113.7", "198.51.100.5")), port));
      await eventually(() => tun.drain().length > 0 ? true : undefined);
      assert.equal(await sentOn(), 0x8002, "switched with the peer's first packet");
      await dp.installSa(fresh); // message 3: already in service
      assert.equal(await sentOn(), 0x8002);
    });
  },
);
