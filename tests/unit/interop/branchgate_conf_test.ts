/** The interop suite's branchgate TOML passes branchgate's own config parser unchanged. */

import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/parse.ts";
import { type BgConfig, renderBranchgateToml } from "../../interop/lib/branchgate_conf.ts";

const config: BgConfig = {
  listen: ["192.0.2.1"],
  localId: "branch.example.net",
  peers: [
    {
      name: "hq",
      remote: "192.0.2.2",
      psk: 'quote " and \\ and\nnewline',
      ikeProposals: ["aes256-sha256-modp2048", "aes128-sha1-ecp256"],
      espProposals: ["aes128gcm16-curve25519", "aes128-sha256"],
      localTs: ["198.51.100.0/25", "198.51.100.128/25"],
      remoteTs: ["203.0.113.0/24"],
      ikeLifetime: 300,
      espLifetime: 60,
      rekeyMargin: 10,
      dpdDelay: 2,
      dpdTimeout: 10,
      encap: true,
    },
    {
      name: "kiosk",
      remote: "%any",
      mode: "aggressive",
      psk: "another-test-key",
      remoteId: "kiosk.example.net",
      localTs: ["198.51.100.0/24"],
      remoteTs: ["203.0.113.64/26"],
    },
  ],
};

Deno.test("branchgate TOML: parses back to the same values", () => {
  const parsed = parseConfig(renderBranchgateToml(config));
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.issues));
  const c = parsed.config;
  assert.deepEqual(c.gateway.listen, ["192.0.2.1"]);
  assert.equal(c.gateway.log_level, "debug");
  assert.equal(c.gateway.local_id, "branch.example.net");
  const [hq, kiosk] = c.peer;
  assert.ok(hq && kiosk);
  assert.equal(hq.psk, config.peers[0]!.psk);
  assert.deepEqual(hq.ike_proposals, config.peers[0]!.ikeProposals);
  assert.deepEqual(hq.esp_proposals, config.peers[0]!.espProposals);
  assert.deepEqual(hq.local_ts, ["198.51.100.0/25", "198.51.100.128/25"]);
  assert.deepEqual(
    [hq.ike_lifetime, hq.esp_lifetime, hq.rekey_margin, hq.dpd_delay, hq.dpd_timeout, hq.encap],
    [300, 60, 10, 2, 10, true],
  );
  assert.equal(hq.mode, "main");
  assert.equal(kiosk.mode, "aggressive");
  assert.equal(kiosk.remote, "%any");
  assert.equal(kiosk.remote_id, "kiosk.example.net");
  assert.equal(kiosk.encap, false);
});

Deno.test("branchgate TOML: a bad value is reported by the parser, not smuggled in", () => {
  const bad = renderBranchgateToml({
    ...config,
    peers: [{ ...config.peers[1]!, name: 'x"\n[gateway]\nmtu = 1' }],
  });
  const parsed = parseConfig(bad);
  assert.equal(parsed.ok, false);
  assert.ok(!parsed.ok && parsed.issues.some((i) => /name/.test(i.key)), bad);
});
