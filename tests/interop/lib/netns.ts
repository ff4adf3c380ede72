/**
 * A test lab of network namespaces joined by veth pairs, for root interop tests and the demo.
 *
 * Every name carries a per-run prefix, so parallel runs never collide; everything the lab makes
 * (namespaces, processes it started, its temporary directory) goes away in {@link Lab.destroy},
 * which {@link withLab} calls in a `finally`. Nothing here touches the host's own namespace:
 * addresses, routes and sysctls are only ever set inside the lab's namespaces.
 * @module
 */

import { CommandError, type CommandResult, must, run, type RunOptions } from "./proc.ts";

/** One end of a veth pair: which namespace, the interface name in it, and its address. */
export interface VethEnd {
  /** Full namespace name (as returned by {@link Lab.addNamespace}). */
  readonly ns: string;
  /** Interface name inside that namespace (at most 15 characters). */
  readonly ifname: string;
  /** Address with prefix length, e.g. "192.0.2.1/24"; omitted for an unaddressed link. */
  readonly cidr?: string;
  /** MTU to set, if not the default. */
  readonly mtu?: number;
}

/** Options for {@link Lab.spawn}. */
export interface SpawnOptions {
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
  /** File that receives the process's stdout and stderr (appended). */
  readonly logPath?: string;
}

/** A long-running process the lab started and will stop. */
export interface LabProcess {
  /** Process id (the command itself: `ip netns exec` execs into it). */
  readonly pid: number;
  /** Short label for messages. */
  readonly label: string;
  /** Resolves when the process exits. */
  readonly status: Promise<Deno.CommandStatus>;
  /** True once the process has exited. */
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
  /** Sends one signal (e.g. SIGKILL to make a peer vanish without Deletes). */
  signal(sig: Deno.Signal): void;
}

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const ROLE = /^[a-z0-9]{1,8}$/;

/** Namespaces, processes and files of one test run. */
export class Lab {
  /** The per-run prefix every namespace name starts with. */
  readonly id: string;
  /** A private temporary directory for configs and logs. */
  readonly dir: string;
  readonly #namespaces: string[] = [];
  readonly #processes: LabProcess[] = [];

  private constructor(id: string, dir: string) {
    this.id = id;
    this.dir = dir;
  }

  /** Creates an empty lab with a fresh prefix and temporary directory. */
  static async create(): Promise<Lab> {
    const rand = crypto.getRandomValues(new Uint8Array(3));
    const id = `bg${Deno.pid.toString(36)}${Array.from(rand, (b) => b.toString(36)).join("")}`;
    const dir = await Deno.makeTempDir({ prefix: `branchgate-${id}-` });
    return new Lab(id, dir);
  }

  /** Names of the namespaces created so far. */
  get namespaces(): readonly string[] {
    return [...this.#namespaces];
  }

  /** Creates namespace `<id>-<role>` with loopback up and returns its full name. */
  async addNamespace(role: string): Promise<string> {
    if (!ROLE.test(role)) throw new RangeError(`namespace role '${role}' must match ${ROLE}`);
    const name = `${this.id}-${role}`;
    if (this.#namespaces.includes(name)) throw new RangeError(`namespace ${name} exists already`);
    await must(["ip", "netns", "add", name]);
    this.#namespaces.push(name);
    await must(["ip", "-n", name, "link", "set", "lo", "up"]);
    return name;
  }

  /** Joins two of the lab's namespaces with a veth pair, addresses both ends and sets them up. */
  async veth(a: VethEnd, b: VethEnd): Promise<void> {
    for (const end of [a, b]) {
      this.#own(end.ns);
      if (!IFNAME.test(end.ifname)) throw new RangeError(`bad interface name '${end.ifname}'`);
    }
    await must([
      "ip",
      "-n",
      a.ns,
      "link",
      "add",
      a.ifname,
      "type",
      "veth",
      "peer",
      "name",
      b.ifname,
      "netns",
      b.ns,
    ]);
    for (const end of [a, b]) {
      if (end.cidr !== undefined) {
        await must(["ip", "-n", end.ns, "addr", "add", end.cidr, "dev", end.ifname]);
      }
      if (end.mtu !== undefined) {
        await must(["ip", "-n", end.ns, "link", "set", end.ifname, "mtu", String(end.mtu)]);
      }
      await must(["ip", "-n", end.ns, "link", "set", end.ifname, "up"]);
    }
  }

  /** Adds a route inside one of the lab's namespaces (`ip route add DEST via GW`). */
  async route(ns: string, dest: string, via: string): Promise<void> {
    this.#own(ns);
    await must(["ip", "-n", ns, "route", "add", dest, "via", via]);
  }

  /** Turns on IPv4 forwarding inside one of the lab's namespaces. */
  async enableForwarding(ns: string): Promise<void> {
    await this.mustExec(ns, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
  }

  /** Runs a command to completion inside a namespace; never throws on exit codes. */
  exec(ns: string, argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    this.#own(ns);
    return run(["ip", "netns", "exec", ns, ...argv], options);
  }

  /** Runs a command inside a namespace and returns stdout; throws unless it exits 0. */
  async mustExec(ns: string, argv: readonly string[], options: RunOptions = {}): Promise<string> {
    const result = await this.exec(ns, argv, options);
    if (result.code !== 0) throw new CommandError(["ip", "netns", "exec", ns, ...argv], result);
    return result.stdout;
  }

  /**
   * Starts a long-running command inside a namespace. The lab stops it in {@link destroy} if it
   * is still running; its output goes to `logPath` (or is discarded).
   */
  spawn(ns: string, argv: readonly string[], options: SpawnOptions = {}): LabProcess {
    this.#own(ns);
    return this.#spawn(["ip", "netns", "exec", ns, ...argv], options);
  }

  /** Like {@link spawn} for a command line that enters namespaces by itself (e.g. `nsenter`). */
  spawnRaw(argv: readonly string[], options: SpawnOptions = {}): LabProcess {
    return this.#spawn(argv, options);
  }

  /** Every `*.log` file in the lab directory, last `lines` lines of each, for failure reports. */
  async logs(lines = 60): Promise<string> {
    const parts: string[] = [];
    const names: string[] = [];
    for await (const entry of Deno.readDir(this.dir)) {
      if (entry.isFile && entry.name.endsWith(".log")) names.push(entry.name);
    }
    for (const name of names.sort()) {
      const text = await Deno.readTextFile(`${this.dir}/${name}`);
      const tail = text.trimEnd().split("\n").slice(-lines).join("\n");
      parts.push(`----- ${name} (last ${lines} lines) -----\n${tail}`);
    }
    return parts.join("\n");
  }

  /**
   * Stops every process the lab started (by PID), deletes its namespaces and its directory.
   * Safe to call twice; collects errors and throws one at the end if anything stayed behind.
   */
  async destroy(): Promise<void> {
    const problems: string[] = [];
    await Promise.all(this.#processes.map((p) => p.stop().catch((e) => problems.push(String(e)))));
    this.#processes.length = 0;
    for (const ns of this.#namespaces.splice(0).reverse()) {
      const r = await run(["ip", "netns", "del", ns]);
      if (r.code !== 0) problems.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
    }
    await Deno.remove(this.dir, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) problems.push(String(e));
    });
    if (problems.length > 0) throw new Error(`lab ${this.id} cleanup: ${problems.join("; ")}`);
  }

  #own(ns: string): void {
    if (!this.#namespaces.includes(ns)) throw new RangeError(`namespace ${ns} is not in lab`);
  }

  #spawn(argv: readonly string[], options: SpawnOptions): LabProcess {
    const [cmd, ...args] = argv;
    if (cmd === undefined) throw new RangeError("empty command line");
    const sink = options.logPath;
    const child = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: sink === undefined ? "null" : "piped",
      stderr: sink === undefined ? "null" : "piped",
      ...(options.env === undefined ? {} : { env: options.env }),
    }).spawn();
    const drains: Promise<void>[] = [];
    if (sink !== undefined) {
      for (const stream of [child.stdout, child.stderr]) {
        drains.push(appendAsItComes(stream, sink));
      }
    }
    let done = false;
    const status = child.status.then(async (s) => {
      done = true;
      await Promise.all(drains);
      return s;
    });
    const label = argv.slice(argv[0] === "ip" ? 4 : 0).join(" ").slice(0, 80);
    const proc: LabProcess = {
      pid: child.pid,
      label,
      status,
      exited: () => done,
      signal: (sig) => {
        if (!done) signal(child, sig);
      },
      stop: async (graceMs = 3000) => {
        if (done) return;
        signal(child, "SIGTERM");
        const timer = setTimeout(() => signal(child, "SIGKILL"), graceMs);
        try {
          await status;
        } finally {
          clearTimeout(timer);
        }
      },
    };
    this.#processes.push(proc);
    return proc;
  }
}

function signal(child: Deno.ChildProcess, sig: Deno.Signal): void {
  try {
    child.kill(sig);
  } catch {
    // exited in the meantime
  }
}

/**
 * Runs `body` with a fresh lab and always destroys it. When `body` throws, the tail of every log
 * file in the lab directory is printed before cleanup (`BG_INTEROP_LOG_LINES` lines each,
 * default 60), so a failing test shows what the peers said.
 */
export async function withLab<T>(body: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.create();
  try {
    return await body(lab);
  } catch (err) {
    const lines = Number(Deno.env.get("BG_INTEROP_LOG_LINES") ?? "60") || 60;
    console.error(`lab ${lab.id} failed; logs follow\n${await lab.logs(lines).catch(String)}`);
    throw err;
  } finally {
    await lab.destroy();
  }
}

/**
 * Appends each chunk of `stream` to the file at `path` as soon as it arrives, so tests waiting
 * for a log line see it while the process runs (`pipeTo(file.writable)` buffered until exit).
 */
async function appendAsItComes(stream: ReadableStream<Uint8Array>, path: string): Promise<void> {
  const file = Deno.openSync(path, { append: true, create: true });
  try {
    for await (const chunk of stream) {
      for (let off = 0; off < chunk.length;) off += file.writeSync(chunk.subarray(off));
    }
  } catch {
    // The process went away mid-read: what arrived is in the file.
  } finally {
    file.close();
  }
}
