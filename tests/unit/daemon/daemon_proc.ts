/**
 * Runs `branchgate run` as a real process for tests, without root: `--no-tun` (the data path
 * reads a socket pair) and high loopback ports. Collects its stderr (the log), waits for
 * "daemon ready", and runs scripted `branchgate shell` sessions against it.
 */

const MAIN = new URL("../../../src/main.ts", import.meta.url).pathname;

/** The permission flags of the `branchgate` task. */
export const FLAGS = [
  "run",
  "--allow-read",
  "--allow-write",
  "--allow-ffi",
  "--allow-net",
  "--allow-env",
  "--allow-sys",
  "--allow-run",
];

/** A test config on loopback with free-ish high ports. */
export function testConfig(ikePort: number, extra = ""): string {
  return `[gateway]
listen = ["127.0.0.1"]
ike_port = ${ikePort}
natt_port = ${ikePort + 1}
tun_name = "bgtest${ikePort % 1000}"

[[peer]]
name = "hq"
remote = "127.0.0.1"
psk = "correct horse battery"
local_ts = ["198.51.100.0/24"]
remote_ts = ["203.0.113.0/24"]
${extra}`;
}

/** A port pair nobody else in this test run uses (per process, randomized). */
export function testPort(): number {
  return 20000 + 2 * Math.floor(Math.random() * 15000);
}

/** A running daemon process. */
export class DaemonProc {
  readonly child: Deno.ChildProcess;
  readonly stateDir: string;
  #err = "";
  readonly #done: Promise<Deno.CommandStatus>;

  private constructor(child: Deno.ChildProcess, stateDir: string) {
    this.child = child;
    this.stateDir = stateDir;
    const dec = new TextDecoder();
    const drained = (async () => {
      for await (const c of child.stderr) this.#err += dec.decode(c, { stream: true });
    })();
    // The status resolves once the process exited and its stderr is read to the end, so a
    // caller that awaits it sees the last lines (the exit can be observed before them).
    this.#done = Promise.all([child.status, drained]).then(([s]) => s);
  }

  /** Starts `branchgate run --state-dir DIR --no-tun [--config FILE] [more]`. */
  static spawn(
    stateDir: string,
    opts: { config?: string; more?: string[]; env?: Record<string, string> } = {},
  ): DaemonProc {
    const args = [...FLAGS, MAIN, "run", "--state-dir", stateDir, "--no-tun"];
    if (opts.config !== undefined) args.push("--config", opts.config);
    args.push(...opts.more ?? []);
    const child = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1", ...opts.env },
    }).spawn();
    return new DaemonProc(child, stateDir);
  }

  /** The log so far. */
  get log(): string {
    return this.#err;
  }

  /** The exit status (once it exits). */
  get status(): Promise<Deno.CommandStatus> {
    return this.#done;
  }

  /** Waits until the log says `pattern` (or the process exits: then throws with the log). */
  async waitLog(pattern: RegExp, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    let exited = false;
    void this.#done.then(() => exited = true);
    while (!pattern.test(this.#err)) {
      if (exited) throw new Error(`daemon exited before ${pattern}:\n${this.#err}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${pattern}:\n${this.#err}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Waits for "daemon ready". */
  ready(): Promise<void> {
    return this.waitLog(/msg="daemon ready"/);
  }

  /** SIGTERM, then the exit status. */
  async stop(): Promise<Deno.CommandStatus> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // already gone
    }
    return await this.#done;
  }

  /** SIGKILL (if still running) and reap. */
  async kill(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.#done;
  }
}

/** Runs `branchgate shell --state-dir DIR` with `lines` on stdin; its stdout, stderr, code. */
export async function shell(
  stateDir: string,
  lines: string[],
): Promise<{ out: string; err: string; code: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...FLAGS, MAIN, "shell", "--state-dir", stateDir],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(lines.map((l) => l + "\n").join("")));
  await w.close();
  const o = await child.output();
  const dec = new TextDecoder();
  return { out: dec.decode(o.stdout), err: dec.decode(o.stderr), code: o.code };
}
