/**
 * The serial console (`run --console DEVICE`) over a real pty pair (socat): the daemon puts its
 * end in raw mode at 115200 8N1, and an operator on the other end gets the banner and prompt,
 * Tab and `?`, commits, and a fresh session after `exit`; the screen never passes 80 columns.
 */

import assert from "node:assert/strict";
import { DaemonProc, testConfig, testPort } from "../unit/daemon/daemon_proc.ts";
import { Screen } from "../unit/shell/screen.ts";

async function waitFile(path: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      Deno.statSync(path);
      return;
    } catch {
      if (Date.now() > end) throw new Error(`${path} never appeared`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

Deno.test("serial console on a pty: raw 115200 8N1, Tab, ?, commit, exit", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bg-console-" });
  const con = `${dir}/ttyCon`;
  const op = `${dir}/ttyOp`;
  const socat = new Deno.Command("socat", {
    args: [`pty,raw,echo=0,link=${con}`, `pty,raw,echo=0,link=${op}`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  let d: DaemonProc | undefined;
  const ttys: Deno.FsFile[] = [];
  try {
    await waitFile(con);
    await waitFile(op);
    Deno.writeTextFileSync(`${dir}/bg.toml`, testConfig(testPort()));
    d = DaemonProc.spawn(`${dir}/state`, { config: `${dir}/bg.toml`, more: ["--console", con] });
    await d.waitLog(/msg="console serving"/);
    const stty = new Deno.Command("stty", { args: ["-F", con, "-a"] }).outputSync();
    const modes = new TextDecoder().decode(stty.stdout);
    assert.match(modes, /speed 115200 baud/);
    for (const m of ["cs8", "-parenb", "-cstopb", "-icanon", "-echo", "-crtscts", "clocal"]) {
      assert.match(modes, new RegExp(`(^|\\s)${m}(\\s|$)`), `console mode ${m}`);
    }

    const screen = new Screen();
    // Separate handles: a pending read on a Deno file holds back writes on the same handle.
    const file = await Deno.open(op, { read: true });
    const out = await Deno.open(op, { write: true });
    ttys.push(file, out);
    void (async () => {
      const buf = new Uint8Array(1024);
      const dec = new TextDecoder();
      for (;;) {
        let n: number | null;
        try {
          n = await file.read(buf);
        } catch {
          return;
        }
        if (n === null) return;
        screen.write(dec.decode(buf.subarray(0, n), { stream: true }));
      }
    })();
    const type = async (s: string) => {
      await out.write(new TextEncoder().encode(s));
      await new Promise((r) => setTimeout(r, 30));
    };
    const expect = async (re: RegExp) => {
      const end = Date.now() + 10_000;
      while (!re.test(screen.text())) {
        if (Date.now() > end) throw new Error(`console never showed ${re}:\n${screen.text()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    // The banner went out before we opened our end; a ^C gives a fresh prompt.
    await type("\x03");
    await expect(/^branchgate> $/m);
    await type("show pe\t");
    await expect(/^branchgate> show peers $/m);
    await type("\r");
    await expect(/^hq +127\.0\.0\.1 +main /m);
    await type("conf\t\r");
    await expect(/^branchgate# $/m);
    await type("set peer hq ?");
    await expect(/^ {2}dpd_delay +/m);
    await type("\x15set peer hq dpd_delay 42\rcommit\r");
    await expect(/^commit complete: revision 2$/m);
    await type("exit\rexit\r");
    await expect(/^session ended$/m);
    assert.equal(screen.overflow, false);
    assert.match(d.log, /msg="config committed" revision=2 by=console/);
    assert.equal((await d.stop()).code, 0);
  } finally {
    for (const t of ttys) {
      try {
        t.close();
      } catch {
        // closed
      }
    }
    await d?.kill();
    try {
      socat.kill("SIGTERM");
    } catch {
      // gone
    }
    await socat.status;
    Deno.removeSync(dir, { recursive: true });
  }
});
