import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseConfig, warningsFor } from "../../../src/config/parse.ts";
import { loadConfigFile } from "../../../src/config/load.ts";
import { formatIssue } from "../../../src/config/issues.ts";

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

interface BadCase {
  name: string;
  append?: string;
  replace?: [string, string];
  key: string;
  line: number;
  contains: string;
}

const table = JSON.parse(Deno.readTextFileSync(here("bad_configs.json"))) as {
  base: string;
  cases: BadCase[];
};

Deno.test("the base of the bad-config table is itself valid", () => {
  const r = parseConfig(table.base);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
});

for (const c of table.cases) {
  Deno.test(`config rejected with key and line: ${c.name}`, () => {
    let text = table.base;
    if (c.replace !== undefined) {
      assert.ok(text.includes(c.replace[0]), "replacement target exists");
      text = text.replace(c.replace[0], c.replace[1]);
    }
    text += c.append ?? "";
    const dir = Deno.makeTempDirSync();
    try {
      const file = `${dir}/c.toml`;
      Deno.writeTextFileSync(file, text);
      const r = loadConfigFile(file);
      assert.equal(r.ok, false, "must be rejected");
      if (r.ok) return;
      const hit = r.issues.find((i) => i.key === c.key);
      assert.ok(hit !== undefined, `no issue for ${c.key}: ${JSON.stringify(r.issues)}`);
      assert.equal(hit.line, c.line, formatIssue(hit));
      assert.ok(hit.message.includes(c.contains), hit.message);
      assert.ok(
        formatIssue(hit, file).startsWith(`${file}:${c.line}: ${c.key ? c.key + ": " : ""}`),
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("a complete config loads with defaults applied and the key file read", () => {
  const r = loadConfigFile(here("good.toml"));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  const [hq, road] = r.config.peer;
  assert.equal(hq?.name, "hq");
  assert.equal(hq?.ike_version, 1);
  assert.deepEqual(hq?.esp_proposals, ["aes256gcm16-modp3072", "aes128gcm16"]);
  assert.equal(hq?.ike_lifetime, 14400);
  assert.equal(road?.mode, "aggressive");
  assert.equal(road?.psk_file, "kiosk.psk");
  assert.equal(r.config.gateway.replay_window, 1024);
  assert.equal(r.config.gateway.ike_port, 500);
});

Deno.test("an empty file is a valid config with no peers", () => {
  const r = parseConfig("");
  assert.ok(r.ok);
  assert.deepEqual(r.config.peer, []);
  assert.equal(r.config.gateway.tun_name, "bg0");
});

Deno.test("legacy algorithms pass when the peer asks for the legacy profile", () => {
  const text = table.base + 'profile = "legacy"\nike_proposals = ["3des-md5-modp1024"]\n';
  const r = parseConfig(text);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
});

Deno.test("problem messages never contain the PSK", () => {
  const text = table.base.replace('psk = "correct horse battery"', "psk = 12345678");
  const r = parseConfig(text);
  assert.equal(r.ok, false);
  if (!r.ok) assert.ok(r.issues.every((i) => !formatIssue(i).includes("12345678")));
});

Deno.test("non-UTF-8 and oversized files are refused cleanly", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeFileSync(`${dir}/bin.toml`, new Uint8Array([0xff, 0xfe, 0x00]));
    const r = loadConfigFile(`${dir}/bin.toml`);
    assert.ok(!r.ok && r.issues[0]?.message.includes("UTF-8"));
    const r2 = loadConfigFile(`${dir}/none.toml`);
    assert.ok(!r2.ok && r2.issues[0]?.message === "no such file");
    const r3 = loadConfigFile(dir);
    assert.ok(!r3.ok && r3.issues[0]?.message === "not a regular file");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("initiator keys: start_action defaults to none, DNS names and keepalive accepted", () => {
  const r = parseConfig(table.base);
  assert.ok(r.ok);
  assert.equal(r.config.peer[0]?.start_action, "none");
  assert.equal(r.config.gateway.natt_keepalive, 20);
  assert.equal(r.config.gateway.datapath, "main");
  const worker = parseConfig(table.base.replace("[gateway]", '[gateway]\ndatapath = "worker"'));
  assert.ok(worker.ok && worker.config.gateway.datapath === "worker");
  const bad = parseConfig(table.base.replace("[gateway]", '[gateway]\ndatapath = "thread"'));
  assert.ok(!bad.ok);
  const text = table.base.replace('remote = "198.51.100.1"', 'remote = "hq.example.net"') +
    'start_action = "trap"\n';
  const r2 = parseConfig(text);
  assert.ok(r2.ok, JSON.stringify(!r2.ok && r2.issues));
  assert.equal(r2.config.peer[0]?.remote, "hq.example.net");
  assert.equal(r2.config.peer[0]?.start_action, "trap");
});

Deno.test("config check warns on Aggressive Mode with a PSK (with remote_id), with the line", async () => {
  const r = loadConfigFile(here("good.toml"));
  assert.ok(r.ok);
  const w = warningsFor(r.config, r.raw, r.text);
  assert.equal(w.length, 1);
  assert.equal(w[0]!.key, "peer.roadshow.mode");
  assert.equal(w[0]!.line, 27);
  assert.match(w[0]!.message, /offline guessing/);
  const cmd = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("../../../src/main.ts", import.meta.url).pathname,
      "config",
      "check",
      here("good.toml"),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(cmd.code, 0);
  assert.match(
    new TextDecoder().decode(cmd.stderr),
    /good\.toml:27: peer\.roadshow\.mode: warning: aggressive mode with psk/,
  );
});

Deno.test("config check warns on an IKEv2 dpd_timeout below 5 s (taken as 5 s)", () => {
  const text = table.base + "\n".concat(
    "ike_version = 2\n",
    "dpd_delay = 2\n",
    "dpd_timeout = 3\n",
  );
  const r = parseConfig(text);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  const w = warningsFor(r.config, r.raw, text).filter((x) => x.key.endsWith(".dpd_timeout"));
  assert.equal(w.length, 1, JSON.stringify(w));
  assert.match(w[0]!.message, /after 5 s .* not 3 s/);
  const ok = table.base + "\nike_version = 2\ndpd_delay = 2\ndpd_timeout = 5\n";
  const r2 = parseConfig(ok);
  assert.ok(r2.ok);
  assert.equal(
    warningsFor(r2.config, r2.raw, ok).filter((x) => x.key.endsWith(".dpd_timeout")).length,
    0,
  );
});
