/**
 * {@link GatewayServices} over the IKE responder and the ESP data path: the first apply starts
 * the data path (TUN, NAT-T sockets), the port-500 sockets and the responder; later commits hand
 * the responder the new policy (unchanged peers keep their SAs), and a change of the listen
 * addresses, ports, TUN name or MTU restarts the I/O (every SA is deleted first, with Deletes
 * to the peers).
 * @module
 */

import type { OffloadRouteView } from "../crypto/cryptodev_offload.ts";
import { MemoryCredentials } from "../ike/auth/credentials.ts";
import type { Authenticator } from "../ike/auth/authenticator.ts";
import type { Config, PeerConfig } from "../config/schema.ts";
import type { DataPathHandle, DataPathOptions } from "../esp/datapath_types.ts";
import type { IkePolicy, IkeResponder } from "../ike/actions.ts";
import type { Logger } from "../log.ts";
import type { DropCount, EspSaView, IkeSaView, PeerView, PkiCertView } from "../shell/host.ts";
import type { ConfigChanges, PeerSecrets } from "./config_diff.ts";
import { IkeDriver } from "./ike_driver.ts";
import { Dialer, type Resolver } from "./dialer.ts";
import { trapPeersFor, trapRoutes } from "./traps.ts";
import type { IkeSockets } from "./ike_sockets.ts";
import type { GatewayServices } from "./services.ts";
import type { ConnView } from "../ike/initiator/connections.ts";

/** `[gateway]` keys whose change restarts the sockets and the data path. */
export const IO_KEYS: readonly string[] = [
  "listen",
  "ike_port",
  "natt_port",
  "tun_name",
  "mtu",
  "natt_keepalive",
  "crypto_offload",
  "crypto_device",
  "datapath",
];

/** How the services are built. */
export interface IkeServicesOptions {
  /** Logger (children "ike" and "esp" are made from it). */
  readonly log: Logger;
  /** Makes the responder for a policy. */
  readonly createResponder: (policy: IkePolicy) => IkeResponder;
  /** Starts the data path. */
  readonly startDataPath: (opts: DataPathOptions) => Promise<DataPathHandle>;
  /** Also open raw ESP (IP protocol 50) sockets; needs root. */
  readonly rawEsp: boolean;
  /** Tests: a packet fd used instead of a TUN device (no routes are set). */
  readonly packetFd?: number;
  /** Host addresses, for wildcard listen addresses (default `Deno.networkInterfaces`). */
  readonly interfaces?: () => { address: string; family: string }[];
  /** How long shutdown waits for the last Deletes to leave (ms, default 200). */
  readonly drainMs?: number;
  /** Directory relative certificate and key paths are taken from (default: the cwd). */
  readonly baseDir?: string;
  /** Wall clock for certificate expiry warnings (tests inject it; default Date.now). */
  readonly now?: () => number;
  /** DNS for peers whose `remote` is a name (default Deno.resolveDns). */
  readonly resolve?: Resolver;
}

/** How often loaded certificates are checked for coming expiry (ms). */
export const EXPIRY_CHECK_MS = 12 * 3600_000;

/** The parts running for one I/O configuration. */
interface Running {
  readonly dataPath: DataPathHandle;
  readonly sockets: Pick<IkeSockets, "endpoints" | "send" | "close">;
  readonly responder: IkeResponder;
  readonly driver: IkeDriver;
  readonly dialer: Dialer;
  readonly description: string;
}

function ioKey(c: Config): string {
  const g = c.gateway as Record<string, unknown>;
  return JSON.stringify(IO_KEYS.map((k) => g[k]));
}

/** The real services: IKE responder + data path. */
export class IkeServices implements GatewayServices {
  readonly #o: IkeServicesOptions;
  readonly #log: Logger;
  #run: Running | undefined;
  #expiryTimer: ReturnType<typeof setInterval> | undefined;
  #pki: (() => readonly PkiCertView[]) | undefined;
  #io = "";
  /** The peers in force (the data path's trap reports are matched against them). */
  #peers: readonly PeerConfig[] = [];
  #down = "not started";

  /** Creates the services; the first {@link apply} starts them. */
  constructor(opts: IkeServicesOptions) {
    this.#o = opts;
    this.#log = opts.log.child("ike");
  }

  /** {@inheritDoc GatewayServices.description} */
  get description(): string {
    return this.#run?.description ?? `IKEv1 responder not running (${this.#down})`;
  }

  /** {@inheritDoc GatewayServices.cryptoRoutes} */
  cryptoRoutes(): readonly OffloadRouteView[] {
    return this.#run?.dataPath.cryptoRoutes?.() ?? [];
  }

  /** The running data path, if any (for tests and diagnostics). */
  get dataPath(): DataPathHandle | undefined {
    return this.#run?.dataPath;
  }

  /** The IKE driver, if running (tests wait on its queue). */
  get driver(): IkeDriver | undefined {
    return this.#run?.driver;
  }

  async #start(config: Config, policy: IkePolicy): Promise<Running> {
    const g = config.gateway;
    const espLog = this.#o.log.child("esp");
    const dataPath = await this.#o.startDataPath({
      tunName: g.tun_name,
      mtu: g.mtu,
      listen: g.listen,
      natPort: g.natt_port,
      ikePort: g.ike_port,
      rawEsp: this.#o.rawEsp,
      // RFC 3948 §2.3: `natt_keepalive` seconds between keepalives on idle ESP-in-UDP SAs.
      keepaliveSeconds: g.natt_keepalive,
      crypto: { mode: g.crypto_offload, device: g.crypto_device },
      runner: g.datapath,
      ...(this.#o.packetFd !== undefined ? { packetFd: this.#o.packetFd } : {}),
    });
    const ref: { driver?: IkeDriver } = {};
    let sockets: Pick<IkeSockets, "endpoints" | "send" | "close">;
    const plain = dataPath.ikeEndpoints ?? [];
    // Port 500 in the data-path Worker: recvmmsg into reused buffers, the bounded IKE queue.
    if (plain.length > 0) {
      sockets = {
        endpoints: () => [...plain],
        send: (datagram, local, remote) => {
          dataPath.sendIke(datagram, local, remote);
          return true;
        },
        close: () => {},
      };
    } else {
      try {
        const interfaces = this.#o.interfaces ?? (() => Deno.networkInterfaces());
        // node:dgram sockets, loaded only here (the Node layer costs resident memory).
        const { bindAddresses, IkeSockets } = await import("./ike_sockets.ts");
        sockets = await IkeSockets.open(
          bindAddresses(g.listen, interfaces()),
          g.ike_port,
          (data, local, remote) => ref.driver?.datagram(data, local, remote),
        );
      } catch (err) {
        await dataPath.stop();
        throw err;
      }
    }
    const responder = this.#o.createResponder(policy);
    const natPort = dataPath.endpoints[0]?.port ?? g.natt_port;
    const dref: { dialer?: Dialer } = {};
    const d = new IkeDriver({
      responder,
      dataPath,
      ike: sockets,
      natPort,
      log: this.#log,
      onConnection: (a) => dref.dialer?.connection(a),
    });
    ref.driver = d;
    const dialer = new Dialer({
      driver: d,
      log: this.#log,
      listen: g.listen,
      ...(this.#o.resolve === undefined ? {} : { resolve: this.#o.resolve }),
    });
    dref.dialer = dialer;
    dataPath.onIkePacket((data, local, remote) => d.datagram(data, local, remote));
    dataPath.onLifetime((ev) => {
      espLog.info(`ESP SA ${ev.kind} lifetime reached`, {
        spi: (ev.spi >>> 0).toString(16).padStart(8, "0"),
        dir: ev.direction,
        child: ev.childId,
      });
      d.lifetime(ev);
    });
    const ike = sockets.endpoints().map((e) => `${e.address}:${e.port}`).join(" ");
    const natt = dataPath.endpoints.map((e) => `${e.address}:${e.port}`).join(" ");
    const description = `IKEv1 responder on ${ike}; ESP data path on ${dataPath.tunName}, ` +
      `NAT-T ${natt}`;
    this.#log.info("IKE and ESP started", {
      ike,
      natt,
      tun: dataPath.tunName,
      raw_esp: this.#o.rawEsp,
    });
    dialer.configure(config.peer);
    // `trap` peers: their remote_ts routed into the TUN device; a packet nothing covers dials.
    this.#peers = config.peer;
    dataPath.onMissed?.((dsts) => {
      for (const d of dsts) for (const name of trapPeersFor(this.#peers, d)) dialer.trapHit(name);
    });
    await dataPath.setTrapRoutes?.(trapRoutes(config.peer));
    return { dataPath, sockets, responder, driver: d, dialer, description };
  }

  async #stop(r: Running): Promise<void> {
    r.dialer.stop();
    await r.driver.input((resp, now) => resp.shutdown(now));
    r.driver.stop();
    await new Promise((res) => setTimeout(res, this.#o.drainMs ?? 200));
    r.sockets.close();
    await r.dataPath.stop();
  }

  /**
   * Loads the pubkey peers' certificates (the PKI code is imported only when a peer uses it),
   * logs what failed and what expires within 30 days, and keeps a periodic expiry check.
   */
  async #pubkeys(
    config: Config,
    notes: string[],
  ): Promise<Map<string, Authenticator & { fingerprint: string }>> {
    if (this.#expiryTimer !== undefined) clearInterval(this.#expiryTimer);
    this.#expiryTimer = undefined;
    this.#pki = undefined;
    if (!config.peer.some((p) => p.auth === "pubkey")) return new Map();
    const m = await import("./pubkey_credentials.ts");
    const now = this.#o.now ?? Date.now;
    const loaded = m.loadPubkeys(config, this.#o.baseDir ?? Deno.cwd(), () => new Date(now()));
    for (const [peer, why] of loaded.errors) {
      this.#log.error("certificate credentials not loaded; the peer cannot authenticate", {
        peer,
        error: why,
      });
      notes.push(`error: peer ${peer}: certificate credentials not loaded: ${why}`);
    }
    const check = () => {
      for (const w of m.pubkeyExpiryWarnings(loaded, new Date(now()))) {
        this.#log.warn(w.line, { peer: w.peer });
      }
    };
    check();
    const timer = setInterval(check, EXPIRY_CHECK_MS);
    Deno.unrefTimer(timer as unknown as number);
    this.#expiryTimer = timer;
    this.#pki = () => m.pkiViews(loaded, new Date(now()));
    return loaded.authenticators;
  }

  /** `show pki`: loaded certificates with days to expiry (empty without pubkey peers). */
  pkiView(): readonly PkiCertView[] {
    return this.#pki?.() ?? [];
  }

  /** {@inheritDoc GatewayServices.apply} */
  async apply(config: Config, secrets: PeerSecrets, changes: ConfigChanges): Promise<string[]> {
    // Lines for the operator (the commit's output) about certificates that did not load.
    const notes: string[] = [];
    const pubkeys = await this.#pubkeys(config, notes);
    const policy: IkePolicy = { config, credentials: new MemoryCredentials(secrets, pubkeys) };
    const key = ioKey(config);
    const cur = this.#run;
    if (cur !== undefined && key === this.#io) {
      await cur.driver.input((r, now) => r.setPolicy(policy, now));
      cur.dialer.configure(config.peer);
      this.#peers = config.peer;
      await cur.dataPath.setTrapRoutes?.(trapRoutes(config.peer));
      return notes;
    }
    const out: string[] = [...notes];
    if (cur !== undefined) {
      const which = changes.gateway.filter((k) => IO_KEYS.includes(k)).join(", ");
      out.push(`gateway: ${which || "I/O settings"} changed: every SA deleted, I/O restarted`);
      this.#run = undefined;
      await this.#stop(cur);
      try {
        this.#run = await this.#start(config, policy);
        this.#io = key;
      } catch (err) {
        // A commit must not leave the daemon half dead without saying so.
        this.#down = err instanceof Error ? err.message : String(err);
        this.#log.error("IKE and ESP could not restart", { error: this.#down });
        out.push(`error: IKE and ESP are down: ${this.#down}`);
        return out;
      }
    } else {
      // First start: a failure here stops the daemon (the caller reports it).
      this.#run = await this.#start(config, policy);
      this.#io = key;
    }
    out.push(this.#run.description);
    return out;
  }

  /** {@inheritDoc GatewayServices.peers} */
  peers(config: Config): PeerView[] {
    const r = this.#run;
    const states = new Map((r?.responder.peerStates(r.driver.now()) ?? []).map((s) => [s.name, s]));
    const dial = new Map((r?.dialer.views() ?? []).map((v) => [v.name, v]));
    return config.peer.map((p) => {
      const s = states.get(p.name);
      const state = s?.state ?? "down";
      const c = dial.get(p.name);
      const shown = state !== "up" && c !== undefined
        ? dialState(c, r!.dialer.now(), { state, detail: s?.detail ?? "" })
        : { state, detail: s?.detail ?? "" };
      return {
        name: p.name,
        remote: p.remote,
        mode: p.ike_version === 2 ? "ikev2" : p.mode,
        state: shown.state,
        ikeSas: s?.ikeSas ?? 0,
        espSas: (s?.childSas ?? 0) * 2,
        detail: r === undefined ? this.#down : shown.detail,
      };
    });
  }

  /** {@inheritDoc GatewayServices.ikeSas} */
  ikeSas(): IkeSaView[] {
    const r = this.#run;
    return r === undefined ? [] : r.responder.ikeSas(r.driver.now());
  }

  /** {@inheritDoc GatewayServices.espSas} */
  espSas(): EspSaView[] {
    const r = this.#run;
    if (r === undefined) return [];
    const counters = new Map(r.dataPath.counters().map((c) => [`${c.direction}${c.spi}`, c]));
    const out: EspSaView[] = [];
    for (const c of r.responder.childSas(r.driver.now())) {
      for (const direction of ["in", "out"] as const) {
        const spi = direction === "in" ? c.inboundSpi : c.outboundSpi;
        const n = counters.get(`${direction}${spi}`);
        out.push({
          peer: c.peer,
          direction,
          spi,
          transform: c.transform,
          localTs: c.localTs,
          remoteTs: c.remoteTs,
          encap: c.encap,
          packets: n?.packets ?? 0,
          bytes: n?.bytes ?? 0,
          replayDrops: n?.replayDrops ?? 0,
          icvFailures: n?.icvFailures ?? 0,
          policyDrops: n?.policyDrops ?? 0,
          ageSeconds: n?.ageSeconds ?? c.ageSeconds,
        });
      }
    }
    return out;
  }

  /** {@inheritDoc GatewayServices.drops} */
  drops(): DropCount[] {
    const r = this.#run;
    if (r === undefined) return [];
    const out: DropCount[] = [];
    for (const [key, count] of r.responder.drops?.() ?? []) {
      const v2 = key.startsWith("ikev2/");
      out.push({ layer: v2 ? "ikev2" : "ike", reason: v2 ? key.slice(6) : key, count });
    }
    const s = r.dataPath.stats();
    const dp: [string, number][] = [
      ["ike-queue-full", s.ikeQueueDrops],
      ["unknown-spi", s.unknownSpi],
      ["invalid", s.invalid],
      // Outbound packets of `trap` peers held for their SA and dropped (src/esp/trap_hold.ts).
      ["trap-hold-full", s.trapOverflow ?? 0],
      ["trap-hold-expired", s.trapExpired ?? 0],
    ];
    for (const [reason, count] of dp) out.push({ layer: "datapath", reason, count });
    for (const c of r.dataPath.counters()) {
      if (c.direction !== "in") continue;
      out.push({ layer: "esp", reason: "icv", count: c.icvFailures });
      out.push({ layer: "esp", reason: "replay", count: c.replayDrops });
    }
    const merged = new Map<string, DropCount>();
    for (const d of out) {
      const k = `${d.layer} ${d.reason}`;
      const m = merged.get(k);
      merged.set(k, { ...d, count: (m?.count ?? 0) + d.count });
    }
    return [...merged.values()];
  }

  /** {@inheritDoc GatewayServices.refresh} */
  async refresh(): Promise<void> {
    const dp = this.#run?.dataPath;
    if (dp === undefined) return;
    // At most 500 ms: a busy Worker makes `show` a second stale rather than slow.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((r) => timer = setTimeout(r, 500));
    await Promise.race([dp.snapshot().catch(() => undefined), late]);
    clearTimeout(timer);
  }

  /** {@inheritDoc GatewayServices.clearIkeSa} */
  async clearIkeSa(peer: string): Promise<string> {
    const r = this.#run;
    if (r === undefined) return `peer ${peer}: IKE is not running (${this.#down})`;
    const now = r.driver.now();
    const ike = r.responder.ikeSas(now).filter((s) => s.peer === peer).length;
    const child = r.responder.childSas(now).filter((s) => s.peer === peer).length;
    await r.driver.input((resp, t) => resp.deletePeer(peer, t));
    this.#log.info("SAs cleared by the operator", { peer, ike_sas: ike, child_sas: child });
    r.dialer.clear(peer);
    const again = r.dialer.views().find((v) => v.name === peer)?.state === "connecting"
      ? "; dialling again"
      : "";
    return `peer ${peer}: ${ike} IKE SA(s) and ${child} ESP SA pair(s) deleted, Deletes sent${again}`;
  }

  /** {@inheritDoc GatewayServices.shutdown} */
  async shutdown(): Promise<void> {
    const r = this.#run;
    this.#run = undefined;
    this.#down = "stopped";
    if (this.#expiryTimer !== undefined) clearInterval(this.#expiryTimer);
    if (r !== undefined) await this.#stop(r);
  }
}

/**
 * A dialled peer that is not up, as `show peers` prints it: "connecting", "backing off" with
 * when the next attempt is due (wall clock, UTC) and the last error, "trap" (waits for
 * traffic), else the responder's view (`start_action = none`, or up).
 */
export function dialState(
  c: ConnView,
  now: number,
  responder: { state: string; detail: string },
): { state: string; detail: string } {
  switch (c.state) {
    case "connecting":
      return {
        state: "connecting",
        detail: c.failures > 0 ? `attempt ${c.failures + 1}; last error: ${c.lastError}` : "",
      };
    case "backoff": {
      const ms = Math.max(0, (c.until ?? now) - now);
      const at = new Date(Date.now() + ms).toISOString().slice(11, 19);
      return {
        state: "backing off",
        detail: `until ${at} UTC (${Math.ceil(ms / 1000)} s): ${c.lastError}`,
      };
    }
    case "trapped":
      return { state: "trap", detail: c.lastError || "waits for traffic to remote_ts" };
    default:
      return { state: responder.state, detail: responder.detail || c.lastError };
  }
}
