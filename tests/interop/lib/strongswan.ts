/**
 * A strongSwan peer for interop tests: Debian's `charon` running inside one of a {@link Lab}'s
 * network namespaces, with its own mount namespace and tmpfs `/run` (charon's pid file path is
 * fixed, and the vici socket lives there too), its own strongswan.conf (`STRONGSWAN_CONF`) and
 * a swanctl.conf generated from a typed description. `swanctl` is run inside the same network
 * and mount namespaces via `nsenter` on charon's PID.
 *
 * ESP on this side is strongSwan's userspace `kernel-libipsec` over the `ipsec0` TUN device
 * (MTU 1400, left as charon sets it); strongSwan 5.9 only does UDP-encapsulated ESP there, so
 * connections to it need `encap = yes`.
 * @module
 */

import type { Lab, LabProcess } from "./netns.ts";
import { CommandError, type CommandResult, run } from "./proc.ts";
import { type ChildSaInfo, type IkeSaInfo, parseListSas } from "./list_sas.ts";
import { type CharonSettings, renderStrongswanConf } from "./strongswan_conf.ts";
import { renderSwanctlConf, type SwanConfig } from "./swanctl_conf.ts";
import { waitFor, type WaitOptions } from "./wait.ts";

/** Where Debian installs the IKE daemon. */
export const CHARON = "/usr/lib/ipsec/charon";

const VICI_URI = "unix:///run/charon.vici";
const NAME = /^[a-z0-9-]{1,16}$/;
// Directories swanctl scans next to its config file; created empty so it does not complain.
const SWANCTL_DIRS = [
  "x509",
  "x509ca",
  "x509ocsp",
  "x509aa",
  "x509ac",
  "x509crl",
  "pubkey",
  "private",
  "rsa",
  "ecdsa",
  "bliss",
  "pkcs8",
  "pkcs12",
];

/** Options for {@link StrongswanPeer.start}. */
export interface PeerOptions {
  /** Short name for files and messages ("remote", "left", …). */
  readonly name: string;
  /** The lab namespace charon runs in. */
  readonly ns: string;
  /** Connections and secrets; loaded with `swanctl --load-all` once charon is up. */
  readonly config: SwanConfig;
  /** charon tuning (log levels, threads, retransmission); paths are filled in here. */
  readonly charon?: Omit<CharonSettings, "logPath" | "viciUri">;
  /** How long charon may take to come up (default 15 s). */
  readonly startTimeoutMs?: number;
  /** Credential files copied into the swanctl directory ("x509/gw.crt" → source path). */
  readonly files?: Readonly<Record<string, string>>;
}

/** A running charon in a lab namespace. */
export class StrongswanPeer {
  /** Short name. */
  readonly name: string;
  /** Namespace it runs in. */
  readonly ns: string;
  /** charon's own log file (filelog) — shown by {@link Lab.logs} on failure. */
  readonly logPath: string;
  /** Path of the strongswan.conf it was started with. */
  readonly strongswanConf: string;
  /** Path of the generated swanctl.conf (mode 0600: it holds the PSKs). */
  readonly swanctlConf: string;
  readonly #proc: LabProcess;

  private constructor(opts: PeerOptions, dir: string, proc: LabProcess) {
    this.name = opts.name;
    this.ns = opts.ns;
    this.logPath = `${dir}/${opts.name}-charon.log`;
    this.strongswanConf = `${dir}/${opts.name}-strongswan.conf`;
    this.swanctlConf = `${dir}/${opts.name}-swanctl/swanctl.conf`;
    this.#proc = proc;
  }

  /** charon's PID. */
  get pid(): number {
    return this.#proc.pid;
  }

  /**
   * Writes the configuration files into the lab directory, starts charon in `opts.ns` with a
   * private /run, waits until its vici socket answers, and loads the connections and secrets.
   */
  static async start(lab: Lab, opts: PeerOptions): Promise<StrongswanPeer> {
    if (!NAME.test(opts.name)) throw new RangeError(`peer name '${opts.name}' must match ${NAME}`);
    const swanctlText = renderSwanctlConf(opts.config);
    const logPath = `${lab.dir}/${opts.name}-charon.log`;
    const confPath = `${lab.dir}/${opts.name}-strongswan.conf`;
    const swanctlDir = `${lab.dir}/${opts.name}-swanctl`;
    await Deno.writeTextFile(
      confPath,
      renderStrongswanConf({ ...opts.charon, logPath, viciUri: VICI_URI }),
    );
    await Deno.mkdir(swanctlDir, { mode: 0o700 });
    for (const d of SWANCTL_DIRS) await Deno.mkdir(`${swanctlDir}/${d}`);
    for (const [to, from] of Object.entries(opts.files ?? {})) {
      if (!/^[a-z0-9]+\/[A-Za-z0-9_.-]+$/.test(to)) throw new RangeError(`bad file name ${to}`);
      await Deno.copyFile(from, `${swanctlDir}/${to}`);
    }
    await Deno.writeTextFile(`${swanctlDir}/swanctl.conf`, swanctlText, { mode: 0o600 });
    // A private mount namespace whose /run is a fresh tmpfs: charon.pid and charon.vici land
    // there, invisible to the host and to the other peers.
    const proc = lab.spawn(opts.ns, [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      `mount -t tmpfs -o mode=0755 tmpfs /run && exec ${CHARON}`,
    ], { env: { STRONGSWAN_CONF: confPath }, logPath: `${lab.dir}/${opts.name}-stdout.log` });
    const peer = new StrongswanPeer(opts, lab.dir, proc);
    await waitFor(async () => {
      if (proc.exited()) {
        throw new Error(`charon '${opts.name}' exited during start-up; see ${logPath}`);
      }
      if (!(await peer.#isCharon())) return undefined;
      const r = await peer.swanctl(["--stats"]);
      return r.code === 0 ? true : undefined;
    }, { timeoutMs: opts.startTimeoutMs ?? 15_000, what: `charon '${opts.name}' vici socket` });
    await peer.mustSwanctl(["--load-all", "--noprompt", "--file", peer.swanctlConf]);
    return peer;
  }

  /** True once the spawned PID has exec'd into charon (so nsenter reaches its namespaces). */
  async #isCharon(): Promise<boolean> {
    try {
      return (await Deno.readLink(`/proc/${this.pid}/exe`)) === CHARON;
    } catch {
      return false;
    }
  }

  /** Runs `swanctl ARGS` against this charon (inside its network and mount namespaces). */
  async swanctl(args: readonly string[], timeoutMs = 30_000): Promise<CommandResult> {
    if (this.#proc.exited()) throw new Error(`charon '${this.name}' is not running`);
    if (!(await this.#isCharon())) throw new Error(`PID ${this.pid} is not charon`);
    return run(
      ["nsenter", "-t", String(this.pid), "-m", "-n", "swanctl", ...args, "--uri", VICI_URI],
      { env: { STRONGSWAN_CONF: this.strongswanConf }, timeoutMs },
    );
  }

  /** Like {@link swanctl} but throws {@link CommandError} unless it exits 0; returns stdout. */
  async mustSwanctl(args: readonly string[], timeoutMs = 30_000): Promise<string> {
    const r = await this.swanctl(args, timeoutMs);
    if (r.code !== 0) throw new CommandError(["swanctl", ...args], r);
    return r.stdout;
  }

  /** Re-reads the generated swanctl.conf (after {@link rewriteConfig}) into charon. */
  async reload(): Promise<void> {
    await this.mustSwanctl(["--load-all", "--noprompt", "--file", this.swanctlConf]);
  }

  /** Replaces the swanctl.conf with a new description and loads it. */
  async rewriteConfig(config: SwanConfig): Promise<void> {
    await Deno.writeTextFile(this.swanctlConf, renderSwanctlConf(config), { mode: 0o600 });
    await this.reload();
  }

  /**
   * Initiates a CHILD_SA (and its IKE SA if needed) and waits for the result; throws with
   * swanctl's output when it fails.
   */
  async initiate(
    child: string,
    opts: { ike?: string; timeoutSeconds?: number } = {},
  ): Promise<string> {
    const t = opts.timeoutSeconds ?? 20;
    const args = ["--initiate", "--child", child, "--timeout", String(t)];
    if (opts.ike !== undefined) args.push("--ike", opts.ike);
    return await this.mustSwanctl(args, (t + 5) * 1000);
  }

  /** Initiates only the IKE SA of connection `ike`. */
  async initiateIke(ike: string, timeoutSeconds = 20): Promise<string> {
    const args = ["--initiate", "--ike", ike, "--timeout", String(timeoutSeconds)];
    return await this.mustSwanctl(args, (timeoutSeconds + 5) * 1000);
  }

  /** Attempts to initiate and returns the raw result (for tests that expect failure). */
  tryInitiate(child: string, timeoutSeconds = 15): Promise<CommandResult> {
    const args = ["--initiate", "--child", child, "--timeout", String(timeoutSeconds)];
    return this.swanctl(args, (timeoutSeconds + 5) * 1000);
  }

  /** Terminates an IKE SA (with its children) or only a CHILD_SA, by configuration name. */
  async terminate(
    target: { ike: string } | { child: string },
    timeoutSeconds = 10,
  ): Promise<string> {
    const args = "ike" in target ? ["--terminate", "--ike", target.ike] : [
      "--terminate",
      "--child",
      target.child,
    ];
    return await this.mustSwanctl([...args, "--timeout", String(timeoutSeconds)]);
  }

  /** Rekeys a CHILD_SA or an IKE SA (IKEv1: a new Quick Mode / a new Main Mode). */
  async rekey(target: { ike: string } | { child: string }): Promise<string> {
    const args = "ike" in target ? ["--rekey", "--ike", target.ike] : [
      "--rekey",
      "--child",
      target.child,
    ];
    return await this.mustSwanctl(args);
  }

  /** Current IKE SAs with their CHILD_SAs, parsed from `swanctl --list-sas --pretty`. */
  async listSas(): Promise<IkeSaInfo[]> {
    return parseListSas(await this.mustSwanctl(["--list-sas", "--pretty"]));
  }

  /** All installed CHILD_SAs across IKE SAs. */
  async childSas(): Promise<ChildSaInfo[]> {
    return (await this.listSas()).flatMap((ike) => ike.children);
  }

  /** Polls {@link listSas} until `select` returns a value; returns it. */
  waitForSas<T>(
    select: (sas: IkeSaInfo[]) => T | undefined,
    options: WaitOptions = {},
  ): Promise<T> {
    return waitFor(async () => select(await this.listSas()), {
      what: `SA state on '${this.name}'`,
      ...options,
    });
  }

  /** Polls charon's log until a line matches `pattern`; returns that line. */
  waitForLog(pattern: RegExp, options: WaitOptions = {}): Promise<string> {
    return waitFor(async () => (await this.log()).split("\n").find((l) => pattern.test(l)), {
      what: `log line ${pattern} on '${this.name}'`,
      ...options,
    });
  }

  /** charon's log so far. */
  async log(): Promise<string> {
    try {
      return await Deno.readTextFile(this.logPath);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return "";
      throw err;
    }
  }

  /** Kills charon at once (SIGKILL: no Deletes reach the peer) and waits for it to exit. */
  async kill(): Promise<void> {
    this.#proc.signal("SIGKILL");
    await this.#proc.status;
  }

  /** Stops charon (SIGTERM, then SIGKILL) by its PID and waits for it to exit. */
  async stop(): Promise<void> {
    await this.#proc.stop();
  }
}
