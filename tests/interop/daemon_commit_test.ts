/**
 * Root: the daemon with a live tunnel to strongSwan (the demo's two sites). A commit that only
 * adds a peer keeps the office's SAs (same SPIs, traffic still flows); a commit that changes the
 * office peer deletes its SAs (strongSwan receives the Deletes) until it negotiates again;
 * `clear ike sa` does the same; SIGTERM exits 0 after sending Deletes and removes the TUN device.
 */

import assert from "node:assert/strict";
import { ping, startDemoLab } from "./demo/demo.ts";
import { withLab } from "./lib/netns.ts";
import { parseShowEspSa } from "./lib/show_parse.ts";
import { waitFor } from "./lib/wait.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

/** Runs shell lines against the daemon's control socket; its stdout (throws on failure). */
async function shell(stateDir: string, lines: string[]): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, "shell", "--state-dir", stateDir],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(lines.map((l) => `${l}\n`).join("")));
  await w.close();
  const o = await child.output();
  const out = new TextDecoder().decode(o.stdout);
  if (o.code !== 0) throw new Error(`shell failed: ${out}${new TextDecoder().decode(o.stderr)}`);
  return out;
}

Deno.test({
  name: "commits apply only what changed; clear and SIGTERM send Deletes",
  ignore: Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withLab(async (lab) => {
      const { sites, bg, office } = await startDemoLab(lab);
      const across = () => ping(lab, sites.a.host, sites.a.hostAddress, sites.b.hostAddress);
      await office.initiate("lan");
      await across();
      const before = parseShowEspSa(await bg.show("esp sa")).map((s) => s.spi).sort();
      assert.equal(before.length, 2);

      // An added peer: the office keeps its SAs.
      const added = await shell(bg.stateDir, [
        "configure",
        "set peer other remote 198.51.100.77",
        'set peer other psk "another-test-psk-0002"',
        "set peer other local_ts 198.51.100.0/25",
        "set peer other remote_ts 203.0.113.128/25",
        "commit",
        "exit",
      ]);
      assert.match(added, /peer other: added/);
      assert.match(added, /unchanged, SAs kept: office/);
      const kept = parseShowEspSa(await bg.show("esp sa")).map((s) => s.spi).sort();
      assert.deepEqual(kept, before);
      await across();

      // A change to the office peer: its SAs go, with Deletes to strongSwan.
      const changed = await shell(bg.stateDir, [
        "configure",
        "set peer office dpd_delay 20",
        "commit",
        "exit",
      ]);
      assert.match(changed, /peer office: changed dpd_delay \(its SAs are renegotiated\)/);
      await office.waitForLog(/received DELETE for (IKE_SA|ESP CHILD_SA)/, { timeoutMs: 5000 });
      await waitFor(
        async () => parseShowEspSa(await bg.show("esp sa")).length === 0 || undefined,
        { timeoutMs: 5000, what: "the office's ESP SAs deleted" },
      );

      // Negotiate again, then clear it from the shell.
      await office.initiate("lan");
      await across();
      const cleared = await shell(bg.stateDir, ["clear ike sa office"]);
      assert.match(cleared, /^peer office: 1 IKE SA\(s\) and 1 ESP SA pair\(s\) deleted/m);
      assert.equal(parseShowEspSa(await bg.show("esp sa")).length, 0);

      // SIGTERM with a tunnel up: Deletes, exit 0, TUN device gone.
      await office.initiate("lan");
      await across();
      const deletes = (await office.log()).split("received DELETE for IKE_SA").length;
      const status = await bg.stop();
      assert.equal(status.code, 0, await bg.log());
      await waitFor(
        async () =>
          (await office.log()).split("received DELETE for IKE_SA").length > deletes || undefined,
        { timeoutMs: 5000, what: "strongSwan receiving the shutdown Delete" },
      );
      const links = await lab.mustExec(sites.a.gw, ["ip", "-o", "link", "show"]);
      assert.doesNotMatch(links, /\bbg0\b/);
      assert.doesNotMatch(await bg.log(), /another-test-psk|branchgate-demo-psk/);
    }),
});
