/**
 * Root: branchgate's data path against strongSwan 5.9.8's userspace ESP (kernel-libipsec,
 * ESP-in-UDP), without IKE on our side: two charons negotiate an ICMP child (AES-GCM-16) and a
 * TCP child (AES-CBC + HMAC-SHA-256-128); the left charon is killed without a Delete and a
 * branchgate data path takes over its SAs from the keys in its log. Ping both ways and a short
 * iperf3 TCP run in both directions must cross, with no ICV failure on either side.
 */

import assert from "node:assert/strict";
import {
  type LabChild,
  parseChildKeys,
  startTakeover,
  SwanLab,
  takeoverSpecs,
} from "./fixtures/esp_strongswan_lab.ts";

const CHILDREN: LabChild[] = [
  {
    name: "ping",
    proto: "icmp",
    esp: "aes128gcm16",
    transform: { kind: "aead", alg: "aes128gcm16" },
  },
  {
    name: "tcp",
    proto: "tcp",
    esp: "aes128-sha256",
    transform: { kind: "cipher+mac", cipher: "aes128cbc", mac: "hmac-sha256-128" },
  },
];

Deno.test("branchgate's data path carries ping and iperf3 to and from strongSwan", async () => {
  const lab = await SwanLab.start(CHILDREN);
  try {
    for (const c of CHILDREN) await lab.initiate(c.name);
    const log = await lab.leftLog();
    const specs = CHILDREN.flatMap((c) => {
      const keys = parseChildKeys(log, c.name);
      assert.ok(keys, `keys of ${c.name} in the charon log`);
      return takeoverSpecs(c, keys);
    });
    await lab.killLeft();
    const dp = await startTakeover(lab, specs);
    await dp.command("install", "installed");

    const ping = await lab.exec(lab.left, [
      "ping",
      "-c",
      "4",
      "-i",
      "0.2",
      "-W",
      "2",
      "-I",
      "198.51.100.1",
      "203.0.113.1",
    ], false);
    assert.match(ping, /4 received/, ping);
    const back = await lab.exec(lab.right, [
      "ping",
      "-c",
      "3",
      "-i",
      "0.2",
      "-W",
      "2",
      "-s",
      "1300",
      "-I",
      "203.0.113.1",
      "198.51.100.1",
    ], false);
    assert.match(back, /3 received/, back);

    lab.spawn(lab.right, ["iperf3", "-s", "-B", "203.0.113.1", "-p", "5201"]);
    await new Promise((r) => setTimeout(r, 500));
    for (const reverse of [[], ["-R"]]) {
      const out = await lab.exec(lab.left, [
        "iperf3",
        "-c",
        "203.0.113.1",
        "-B",
        "198.51.100.1",
        "-p",
        "5201",
        "-t",
        "2",
        "-J",
        ...reverse,
      ]);
      const r = JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } };
      assert.ok(
        r.end.sum_received.bits_per_second > 1e6,
        `iperf3 ${reverse.join("")}: ${out.slice(0, 400)}`,
      );
    }

    const final = JSON.parse(await dp.stop()) as {
      sas: { spi: number; direction: string; packets: number; icvFailures: number }[];
      stats: { espIn: number; espOut: number; tunOut: number };
    };
    for (const sa of final.sas) {
      assert.ok(sa.packets > 0, `SA ${sa.spi.toString(16)} ${sa.direction} carried packets`);
      assert.equal(sa.icvFailures, 0);
    }
    const right = await lab.swanctl("r", "--list-sas");
    assert.doesNotMatch(right, /bytes_i \(0 pkts/, "strongSwan received our ESP on every child");
  } finally {
    await lab.destroy();
  }
});
