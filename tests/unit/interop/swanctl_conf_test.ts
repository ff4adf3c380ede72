/** swanctl.conf and strongswan.conf rendering for the interop peers. */

import assert from "node:assert/strict";
import {
  renderSwanctlConf,
  type SwanConfig,
  SwanConfigError,
  type SwanConnection,
} from "../../interop/lib/swanctl_conf.ts";
import { CHARON_PLUGINS, renderStrongswanConf } from "../../interop/lib/strongswan_conf.ts";

const conn: SwanConnection = {
  name: "hq",
  version: 1,
  aggressive: true,
  localAddrs: ["192.0.2.2"],
  remoteAddrs: ["192.0.2.1"],
  proposals: ["aes256-sha256-modp2048"],
  encap: true,
  localId: "hq.example.net",
  remoteId: "branch.example.net",
  dpdDelay: 2,
  dpdTimeout: 6,
  children: [{
    name: "net",
    localTs: ["203.0.113.0/24"],
    remoteTs: ["198.51.100.0/24[tcp/80]"],
    espProposals: ["aes128gcm16-ecp256"],
    rekeyTime: 20,
    randTime: 0,
  }],
};
const config: SwanConfig = {
  connections: [conn],
  secrets: [{ name: "k", ids: ["hq.example.net", "branch.example.net"], secret: "s3cret" }],
};

Deno.test("swanctl.conf: connection, child and hex-encoded secret", () => {
  const text = renderSwanctlConf(config);
  for (
    const line of [
      "    version = 1",
      "    aggressive = yes",
      "    encap = yes",
      "    dpd_timeout = 6",
      '      id = "branch.example.net"',
      "        remote_ts = 198.51.100.0/24[tcp/80]",
      "        esp_proposals = aes128gcm16-ecp256",
      "        rekey_time = 20",
      "        rand_time = 0",
      "    secret = 0x733363726574",
    ]
  ) assert.ok(text.includes(`${line}\n`), `${line} in\n${text}`);
  assert.ok(!text.includes("s3cret"), "the PSK never appears as text");
  // Balanced braces.
  assert.equal(text.split("{").length, text.split("}").length);
});

Deno.test("swanctl.conf: values that could inject configuration are refused", () => {
  const bad: SwanConfig[] = [
    { ...config, connections: [{ ...conn, name: "a b" }] },
    { ...config, connections: [{ ...conn, proposals: ["aes}"] }] },
    { ...config, connections: [{ ...conn, remoteId: 'x"\n}' }] },
    { ...config, connections: [{ ...conn, localAddrs: ["192.0.2.1\nfoo"] }] },
    { ...config, connections: [{ ...conn, version: 2 }] }, // aggressive only in IKEv1
    { ...config, connections: [{ ...conn, children: [] }] },
    { ...config, connections: [conn, conn] },
    { ...config, secrets: [{ name: "k", ids: ["a"], secret: "" }] },
    {
      ...config,
      connections: [{ ...conn, children: [{ ...conn.children[0]!, rekeyTime: -1 }] }],
    },
  ];
  for (const c of bad) {
    assert.throws(() => renderSwanctlConf(c), SwanConfigError);
  }
});

Deno.test("strongswan.conf: kernel-libipsec before kernel-netlink, log and vici paths", () => {
  const text = renderStrongswanConf({
    logPath: "/tmp/lab/a-charon.log",
    viciUri: "unix:///run/charon.vici",
    logLevels: { ike: 2 },
  });
  assert.ok(CHARON_PLUGINS.indexOf("kernel-libipsec") < CHARON_PLUGINS.indexOf("kernel-netlink"));
  assert.match(text, /load = .*kernel-libipsec kernel-netlink/);
  assert.match(text, /path = \/tmp\/lab\/a-charon\.log\n/);
  assert.match(text, /socket = unix:\/\/\/run\/charon\.vici\n/);
  assert.match(text, /ike = 2\n/);
  assert.throws(() => renderStrongswanConf({ logPath: "rel/x", viciUri: "unix:///r" }), RangeError);
  assert.throws(
    () => renderStrongswanConf({ logPath: "/x", viciUri: "unix:///r", logLevel: 7 }),
    RangeError,
  );
});
