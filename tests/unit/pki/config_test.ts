/**
 * The pubkey config keys (issue #14 names: auth, cert, key, ca, crl, local_id, remote_id):
 * a complete pubkey peer validates, missing files or a key others can read are refused at load
 * with the key named, and the PSK/pubkey keys are not mixed.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/parse.ts";
import { loadConfigFile } from "../../../src/config/load.ts";
import { issue } from "./fixture.ts";

const base = await Deno.makeTempDir({ prefix: "bg-pki-cfg-" });
const c = await issue(base, "gw", undefined, { subject: "/CN=gw.example.net" });

function peer(extra: string): string {
  return `[[peer]]
name = "branches"
remote = "%any"
auth = "pubkey"
local_ts = ["10.0.0.0/16"]
remote_ts = ["10.1.0.0/16"]
${extra}`;
}
const full = `cert = "${c.cert}"\nkey = "${c.key}"\nca = ["${c.cert}"]\n` +
  `local_id = "gw.example.net"\nremote_id = "*.example.net"\n`;

Deno.test("a complete pubkey peer loads", async () => {
  await Deno.writeTextFile(`${base}/ok.toml`, peer(full));
  const r = loadConfigFile(`${base}/ok.toml`);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  assert.equal(r.config.peer[0]!.auth, "pubkey");
  assert.deepEqual(r.config.peer[0]!.ca, [c.cert]);
});

Deno.test("pubkey needs cert, key and ca; psk keys are refused beside it", () => {
  const r = parseConfig(peer(`psk = "0123456789"\n`));
  assert.ok(!r.ok);
  const text = JSON.stringify(r.issues);
  for (const k of ["needs cert", "needs key", "needs ca", "only with auth psk"]) {
    assert.ok(text.includes(k), `${k} in ${text}`);
  }
  const p = parseConfig(
    `[[peer]]\nname = "a"\nremote = "192.0.2.1"\npsk = "0123456789"\ncert = "x.crt"\n` +
      `local_ts = ["10.0.0.0/16"]\nremote_ts = ["10.1.0.0/16"]\n`,
  );
  assert.ok(!p.ok && JSON.stringify(p.issues).includes("only with auth pubkey"));
});

Deno.test("missing files and a key readable by others fail at load, naming the key", async () => {
  await Deno.writeTextFile(`${base}/miss.toml`, peer(full.replace(c.cert, `${base}/nope.crt`)));
  const r = loadConfigFile(`${base}/miss.toml`);
  assert.ok(
    !r.ok && r.issues.some((i) => i.key === "peer.branches.cert" && /not found/.test(i.message)),
  );
  await Deno.chmod(c.key, 0o640);
  await Deno.writeTextFile(`${base}/mode.toml`, peer(full));
  const m = loadConfigFile(`${base}/mode.toml`);
  assert.ok(
    !m.ok &&
      m.issues.some((i) => i.key === "peer.branches.key" && /readable by others/.test(i.message)),
  );
  await Deno.chmod(c.key, 0o600);
});

globalThis.addEventListener("unload", () => Deno.removeSync(base, { recursive: true }));

Deno.test("branchgate config check loads pubkey credentials: a mismatched key is refused", async () => {
  const other = await issue(base, "other", undefined, { subject: "/CN=other.example.net" });
  const main = new URL("../../../src/main.ts", import.meta.url).pathname;
  const run = async (file: string) => {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--frozen", "-A", main, "config", "check", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const d = new TextDecoder();
    return { code: r.code, out: d.decode(r.stdout) + d.decode(r.stderr) };
  };
  await Deno.writeTextFile(`${base}/good.toml`, peer(full));
  const good = await run(`${base}/good.toml`);
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /ok \(1 peer\)/);
  await Deno.writeTextFile(`${base}/bad.toml`, peer(full.replace(c.key, other.key)));
  const bad = await run(`${base}/bad.toml`);
  assert.equal(bad.code, 1, bad.out);
  assert.match(bad.out, /peer\.branches: .*other\.key: private key does not match .*gw\.crt/);
});
