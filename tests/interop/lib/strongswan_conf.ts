/**
 * strongswan.conf for one test charon: an explicit plugin list with `kernel-libipsec` loaded
 * before `kernel-netlink` (this kernel has no XFRM ESP, so ESP runs in charon's userspace over
 * the `ipsec0` TUN device; kernel-netlink still provides routes and addresses), the vici
 * socket in the peer's private /run, a file log, and short retransmission timers for tests.
 * @module
 */

/** Log subsystems of charon (see strongswan.conf(5), "Logger Configuration"). */
export type CharonSubsystem =
  | "dmn"
  | "mgr"
  | "ike"
  | "chd"
  | "job"
  | "cfg"
  | "knl"
  | "net"
  | "asn"
  | "enc"
  | "tnc"
  | "imc"
  | "imv"
  | "pts"
  | "tls"
  | "esp"
  | "lib";

/** Settings for {@link renderStrongswanConf}. */
export interface CharonSettings {
  /** Absolute path of charon's log file. */
  readonly logPath: string;
  /** vici socket URI, e.g. "unix:///run/charon.vici" (inside the peer's private /run). */
  readonly viciUri: string;
  /** Default log level (-1..4) and per-subsystem overrides. */
  readonly logLevel?: number;
  /** Per-subsystem log levels. */
  readonly logLevels?: Partial<Record<CharonSubsystem, number>>;
  /** Worker threads (default 16 as in charon; kernel-libipsec and vici keep ~10 busy). */
  readonly threads?: number;
  /** Retransmissions before giving up (default here: 3, for quick failing tests). */
  readonly retransmitTries?: number;
  /** First retransmission timeout in seconds (default here: 1). */
  readonly retransmitTimeout?: number;
  /** Answer IKEv1 Aggressive Mode with PSK (strongSwan refuses it as a responder otherwise). */
  readonly aggressivePskResponder?: boolean;
  /**
   * IKEv1: delete a CHILD_SA (with a Delete to the peer) shortly after it was rekeyed, instead of
   * letting it expire (`delete_rekeyed`, 5 s after the rekey).
   */
  readonly deleteRekeyed?: boolean;
  /** Largest IKE fragment charon sends, bytes (`fragment_size`; default 1280). */
  readonly fragmentSize?: number;
}

/**
 * Plugins charon loads, in order. kernel-libipsec must come before kernel-netlink so that it,
 * not XFRM, provides the kernel IPsec interface.
 */
export const CHARON_PLUGINS: readonly string[] = [
  "random",
  "nonce",
  "openssl",
  "pem",
  "pkcs1",
  "pubkey",
  "x509",
  "kdf",
  "aes",
  "sha1",
  "sha2",
  "md5",
  "hmac",
  "xcbc",
  "gcm",
  "chapoly",
  "curve25519",
  "gmp",
  "kernel-libipsec",
  "kernel-netlink",
  "socket-default",
  "vici",
];

const URI = /^unix:\/\/\/[A-Za-z0-9_./-]+$/;
const PATH = /^\/[A-Za-z0-9_./-]+$/;

function level(name: string, value: number): number {
  if (!Number.isInteger(value) || value < -1 || value > 4) {
    throw new RangeError(`log level ${name}=${value} is not in -1..4`);
  }
  return value;
}

/** Renders strongswan.conf text for one peer; throws RangeError on unsafe values. */
export function renderStrongswanConf(settings: CharonSettings): string {
  if (!PATH.test(settings.logPath)) throw new RangeError(`bad log path '${settings.logPath}'`);
  if (!URI.test(settings.viciUri)) throw new RangeError(`bad vici URI '${settings.viciUri}'`);
  const threads = settings.threads ?? 16;
  const tries = settings.retransmitTries ?? 3;
  const timeout = settings.retransmitTimeout ?? 1;
  for (const [name, v] of [["threads", threads], ["retransmitTries", tries]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 64) throw new RangeError(`${name}=${v} out of range`);
  }
  if (!(timeout > 0 && timeout <= 30)) throw new RangeError(`retransmitTimeout=${timeout}`);
  const levels = [`      default = ${level("default", settings.logLevel ?? 1)}`];
  for (const [sub, v] of Object.entries(settings.logLevels ?? {})) {
    levels.push(`      ${sub} = ${level(sub, v)}`);
  }
  return [
    "charon {",
    "  load_modular = no",
    `  load = ${CHARON_PLUGINS.join(" ")}`,
    `  threads = ${threads}`,
    "  install_virtual_ip = no",
    `  retransmit_tries = ${tries}`,
    `  retransmit_timeout = ${timeout}`,
    "  retransmit_base = 1.4",
    ...(settings.deleteRekeyed === true ? ["  delete_rekeyed = yes"] : []),
    ...(settings.fragmentSize === undefined
      ? []
      : [`  fragment_size = ${Math.trunc(Math.min(Math.max(settings.fragmentSize, 256), 65535))}`]),
    ...(settings.aggressivePskResponder === true
      ? ["  i_dont_care_about_security_and_use_aggressive_mode_psk = yes"]
      : []),
    "  filelog {",
    "    test {",
    `      path = ${settings.logPath}`,
    "      time_format = %T",
    "      ike_name = yes",
    "      flush_line = yes",
    "      append = yes",
    ...levels,
    "    }",
    "  }",
    "  plugins {",
    "    vici {",
    `      socket = ${settings.viciUri}`,
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
}
