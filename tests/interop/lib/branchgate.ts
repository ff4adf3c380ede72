/**
 * branchgate as the real daemon in one of a {@link Lab}'s namespaces, started the way the
 * `branchgate` task in deno.json starts it (same permission flags, `src/main.ts run --config
 * FILE --state-dir DIR`), with its log in the lab directory. Ready once it listens on UDP 500.
 * @module
 */

import type { Lab, LabProcess } from "./netns.ts";
import { type BgConfig, renderBranchgateToml } from "./branchgate_conf.ts";
import { waitFor, type WaitOptions } from "./wait.ts";

const REPO = new URL("../../../", import.meta.url).pathname;

/**
 * The argument list of the `branchgate` task (deno.json), with `deno` replaced by the running
 * Deno and the entry point made absolute, so the test runs exactly what operators run.
 */
export async function branchgateArgv(): Promise<string[]> {
  const deno = JSON.parse(await Deno.readTextFile(`${REPO}deno.json`)) as {
    tasks?: Record<string, string>;
  };
  const task = deno.tasks?.["branchgate"];
  if (task === undefined) throw new Error("deno.json has no 'branchgate' task");
  const words = task.trim().split(/\s+/);
  if (words[0] !== "deno" || words[words.length - 1] !== "src/main.ts") {
    throw new Error(`unexpected branchgate task '${task}'`);
  }
  return [Deno.execPath(), ...words.slice(1, -1), `${REPO}src/main.ts`];
}

/** Options for {@link BranchgateDaemon.start}. */
export interface DaemonOptions {
  /** Short name for files ("bg", …). */
  readonly name: string;
  /** Lab namespace to run in. */
  readonly ns: string;
  /** The config file's contents. */
  readonly config: BgConfig;
  /** How long start-up may take (default 30 s: the crypto self-test runs first). */
  readonly startTimeoutMs?: number;
  /**
   * The program to start instead of the source task, e.g. the image launcher
   * `build/image-x86_64/current/bin/branchgate` (benchmarks measure what ships).
   */
  readonly command?: readonly string[];
  /** Extra environment (e.g. BRANCHGATE_CRYPTODEV_LIB for the fake /dev/crypto). */
  readonly env?: Record<string, string>;
}

/** A running branchgate daemon. */
export class BranchgateDaemon {
  /** Short name. */
  readonly name: string;
  /** Namespace it runs in. */
  readonly ns: string;
  /** The config file it was started with (mode 0600). */
  readonly configPath: string;
  /** Its state directory (config store, control socket). */
  readonly stateDir: string;
  /** Its stdout+stderr (structured log lines). */
  readonly logPath: string;
  readonly #proc: LabProcess;
  readonly #lab: Lab;

  private constructor(lab: Lab, opts: DaemonOptions, proc: LabProcess) {
    this.#lab = lab;
    this.name = opts.name;
    this.ns = opts.ns;
    this.configPath = `${lab.dir}/${opts.name}.toml`;
    this.stateDir = `${lab.dir}/${opts.name}-state`;
    this.logPath = `${lab.dir}/${opts.name}-daemon.log`;
    this.#proc = proc;
  }

  /** The daemon's PID. */
  get pid(): number {
    return this.#proc.pid;
  }

  /** True while the daemon process runs. */
  get running(): boolean {
    return !this.#proc.exited();
  }

  /** Writes the config, starts the daemon in `opts.ns`, waits until it listens on UDP 500. */
  static async start(lab: Lab, opts: DaemonOptions): Promise<BranchgateDaemon> {
    if (!/^[a-z0-9-]{1,16}$/.test(opts.name)) throw new RangeError(`bad name '${opts.name}'`);
    const configPath = `${lab.dir}/${opts.name}.toml`;
    const stateDir = `${lab.dir}/${opts.name}-state`;
    await Deno.writeTextFile(configPath, renderBranchgateToml(opts.config), { mode: 0o600 });
    await Deno.mkdir(stateDir, { mode: 0o700 });
    const argv = [
      ...opts.command ?? await branchgateArgv(),
      "run",
      "--config",
      configPath,
      "--state-dir",
      stateDir,
    ];
    const proc = lab.spawn(opts.ns, argv, {
      logPath: `${lab.dir}/${opts.name}-daemon.log`,
      env: { NO_COLOR: "1", ...opts.env },
    });
    const daemon = new BranchgateDaemon(lab, opts, proc);
    await waitFor(async () => {
      if (proc.exited()) {
        const status = await proc.status;
        const tail = (await daemon.log()).trimEnd().split("\n").slice(-5).join("\n");
        throw new Error(`branchgate exited with ${status.code} during start-up:\n${tail}`);
      }
      const r = await lab.exec(opts.ns, ["ss", "-Hlun", "sport = :500"]);
      return r.stdout.includes(":500") ? true : undefined;
    }, { timeoutMs: opts.startTimeoutMs ?? 30_000, what: "branchgate listening on UDP 500" });
    return daemon;
  }

  /** The daemon's log so far. */
  async log(): Promise<string> {
    try {
      return await Deno.readTextFile(this.logPath);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return "";
      throw err;
    }
  }

  /** Polls the log until a line matches `pattern`; returns that line. */
  waitForLog(pattern: RegExp, options: WaitOptions = {}): Promise<string> {
    return waitFor(async () => (await this.log()).split("\n").find((l) => pattern.test(l)), {
      what: `branchgate log line ${pattern}`,
      ...options,
    });
  }

  /**
   * Runs one operational command (`ike sa` for `show ike sa`, …) through `branchgate shell
   * --state-dir DIR`, attached to this daemon's control socket, and returns what it printed.
   */
  show(what: string): Promise<string> {
    if (!/^[a-z ]{1,40}$/.test(what)) throw new RangeError(`bad show argument '${what}'`);
    return this.shell([`show ${what}`]);
  }

  /**
   * Runs shell lines (e.g. `configure`, `set gateway mtu 1300`, `commit`) through `branchgate
   * shell --state-dir DIR`, then `exit`, and returns what it printed.
   */
  async shell(lines: readonly string[]): Promise<string> {
    const argv = [...await branchgateArgv(), "shell", "--state-dir", this.stateDir];
    const [cmd, ...args] = argv;
    const child = new Deno.Command(cmd!, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode([...lines, "exit", ""].join("\n")));
    await writer.close();
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    try {
      const out = await child.output();
      const text = new TextDecoder().decode(out.stdout);
      if (!out.success) {
        const err = new TextDecoder().decode(out.stderr).trim();
        throw new Error(`branchgate shell '${lines[0]}' exited ${out.code}: ${err || text}`);
      }
      return text;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs a command inside the daemon's namespace (e.g. `ip route`), returning stdout. */
  exec(argv: readonly string[]): Promise<string> {
    return this.#lab.mustExec(this.ns, argv);
  }

  /** SIGKILL: the daemon vanishes without Deletes (a crash); returns the exit status. */
  async kill(): Promise<Deno.CommandStatus> {
    this.#proc.signal("SIGKILL");
    return await this.#proc.status;
  }

  /** SIGTERM (the daemon sends Deletes and exits); returns the exit status. */
  async stop(graceMs = 10_000): Promise<Deno.CommandStatus> {
    await this.#proc.stop(graceMs);
    return await this.#proc.status;
  }
}
