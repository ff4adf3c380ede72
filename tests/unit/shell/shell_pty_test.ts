/**
 * A scripted operator at a real terminal: `branchgate shell` runs on a pty (util-linux `script`)
 * against a real daemon process, and the test types, presses Tab and `?`, commits, lets a
 * commit confirmed expire (one "minute" is 1.5 s here), rolls back, and asserts what the
 * screen shows (a small VT100 model), never wider than 80 columns. No root needed.
 */

import assert from "node:assert/strict";
import { DaemonProc, FLAGS, testConfig, testPort } from "../daemon/daemon_proc.ts";
import { Screen } from "./screen.ts";

const MAIN = new URL("../../../src/main.ts", import.meta.url).pathname;

/** The shell on a pty, with its screen. */
class PtyShell {
  readonly screen = new Screen();
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reading: Promise<void>;
  #mark = 0;

  constructor(stateDir: string) {
    const cmd = [Deno.execPath(), ...FLAGS, MAIN, "shell", "--state-dir", stateDir].join(" ");
    const child = new Deno.Command("script", {
      args: ["-qfec", cmd, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env: { NO_COLOR: "1", TERM: "vt100" },
    }).spawn();
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    const dec = new TextDecoder();
    this.#reading = (async () => {
      for await (const c of child.stdout) this.screen.write(dec.decode(c, { stream: true }));
    })();
  }

  /** Types keys (after marking the screen, so waits look only at what follows). */
  async type(keys: string): Promise<void> {
    this.#mark = Math.max(0, this.screen.rows.length - 1);
    for (const k of keys) {
      await this.#writer.write(new TextEncoder().encode(k));
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** The screen from the row where the last typing started. */
  recent(): string {
    return this.screen.text().split("\n").slice(this.#mark).join("\n");
  }

  /** Waits until the recent screen matches. */
  async expect(re: RegExp, ms = 15_000): Promise<string> {
    const end = Date.now() + ms;
    while (!re.test(this.recent())) {
      if (Date.now() > end) {
        throw new Error(`screen never showed ${re}; it shows:\n${this.screen.text()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.recent();
  }

  /** Closes stdin and waits for the exit status. */
  async close(): Promise<Deno.CommandStatus> {
    try {
      await this.#writer.close();
    } catch {
      // already closed
    }
    const timer = setTimeout(() => this.kill(), 10_000);
    const s = await this.#child.status;
    clearTimeout(timer);
    await this.#reading;
    return s;
  }

  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // gone
    }
  }
}

Deno.test("operator session on a pty: Tab, ?, commit, commit confirmed expiry, rollback", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bg-pty-" });
  const state = `${dir}/state`;
  Deno.writeTextFileSync(`${dir}/bg.toml`, testConfig(testPort()));
  const d = DaemonProc.spawn(state, {
    config: `${dir}/bg.toml`,
    env: { BRANCHGATE_MINUTE_MS: "1500" },
  });
  let sh: PtyShell | undefined;
  try {
    await d.ready();
    sh = new PtyShell(state);
    await sh.expect(/^branchgate> $/m);

    await sh.type("sh\t");
    await sh.expect(/^branchgate> show $/m);
    await sh.type("?");
    const help = await sh.expect(/^ {2}peers +.*$/m);
    assert.match(help, /^branchgate> show \?$/m, "? is echoed, then the choices");
    assert.match(help, /^ {2}ike /m);
    await sh.expect(/^branchgate> show $/m);
    await sh.type("pe\t\r");
    await sh.expect(/^hq +127\.0\.0\.1 +main +down/m);
    await sh.expect(/^branchgate> $/m);

    await sh.type("configure\r");
    await sh.expect(/^branchgate# $/m);
    await sh.type("set peer hq dpd_delay 40\r");
    await sh.type("commit confirmed 1\r");
    await sh.expect(/^commit complete: revision 2$/m);
    await sh.expect(/^rolls back to revision 1 at \S+Z unless 'commit' confirms it$/m);
    await sh.expect(
      /^\*\*\* commit confirmed expired: rolled back to revision 1 \(now revision 3\)$/m,
      10_000,
    );
    await sh.expect(/^branchgate# $/m);

    await sh.type("discard\r");
    await sh.expect(/^candidate reset to the running config$/m);
    await sh.type("run show config\r");
    const shown = await sh.expect(/^branchgate# $/m);
    assert.match(shown, /^# revision 3, .* by confirm-timeout$/m);
    assert.doesNotMatch(shown, /dpd_delay/);

    await sh.type("set peer hq dpd_delay 50\r");
    await sh.type("commit\r");
    await sh.expect(/^commit complete: revision 4$/m);
    await sh.type("rollback 1\r");
    await sh.expect(/^revision 1 back loaded into the candidate/m);
    await sh.type("compare\r");
    await sh.expect(/^-.*dpd_delay = 50/m);
    await sh.type("commit\r");
    await sh.expect(/^commit complete: revision 5$/m);

    // History: Up recalls the last command.
    await sh.type("\x1b[A");
    await sh.expect(/^branchgate# commit$/m);
    await sh.type("\x15exit\r");
    await sh.expect(/^branchgate> $/m);
    await sh.type("exit\r");
    const status = await sh.close();
    assert.equal(status.code, 0);
    assert.equal(sh.screen.overflow, false, "nothing written past column 80");
    assert.ok(!sh.screen.text().includes("correct horse"));
  } finally {
    sh?.kill();
    await d.kill();
    Deno.removeSync(dir, { recursive: true });
  }
});
