/**
 * The config schema (valibot): one definition drives validation, defaults, the shell's tab
 * completion and `?` help (descriptions and metadata are read back by `schema_info.ts`).
 *
 * Per-field checks live here; checks across fields (PSK xor PSK file, unique names, proposal
 * syntax and the secure-default algorithm policy, lifetimes vs margins) are in `check.ts`.
 * @module
 */

import * as v from "valibot";
import { parseIp, parseRange } from "../net/addr.ts";
import { LOG_LEVELS } from "../log.ts";

/** An integer field in [min, max] with its help text. */
function int(min: number, max: number, help: string) {
  return v.pipe(
    v.number("must be an integer"),
    v.integer("must be an integer"),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
    v.description(help),
  );
}

/** A text field matching `re`, with its help text. */
function text(re: RegExp, problem: string, help: string) {
  return v.pipe(v.string("must be a string"), v.regex(re, problem), v.description(help));
}

const ipAddress = v.pipe(
  v.string("must be a string"),
  v.check((s) => parseIp(s) !== undefined, "must be an IPv4 or IPv6 address"),
);

/** A DNS host name (RFC 1123 §2.1 labels), e.g. "hq.example.net"; resolved at every attempt. */
const hostName = v.pipe(
  v.string("must be a string"),
  v.maxLength(253, "must be at most 253 characters"),
  v.regex(
    /^(?=.*[A-Za-z])[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/,
    "must be an IPv4 or IPv6 address, a DNS name, or %any",
  ),
);

const selector = v.pipe(
  v.string("must be a string"),
  v.check((s) => parseRange(s) !== undefined, "must be ADDR, ADDR/LEN or ADDR-ADDR"),
);

const proposal = v.pipe(
  v.string("must be a string"),
  v.regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "must be strongSwan keywords joined by '-'"),
);

const identity = v.pipe(
  v.string("must be a string"),
  v.minLength(1, "must not be empty"),
  v.maxLength(255, "must be at most 255 characters"),
);

const filePath = v.pipe(
  v.string("must be a string"),
  v.minLength(1, "must not be empty"),
  v.maxLength(4096, "must be at most 4096 characters"),
);

/** A list with at least one element. */
function list<T extends v.GenericSchema<unknown, string>>(item: T, help: string) {
  return v.pipe(
    v.array(item, "must be a list"),
    v.minLength(1, "must not be empty"),
    v.description(help),
  );
}

/** `[gateway]`: settings of the box itself. */
export const GatewaySchema = v.strictObject({
  listen: v.optional(list(ipAddress, "addresses IKE listens on (UDP 500 and 4500)"), ["0.0.0.0"]),
  ike_port: v.optional(int(1, 65535, "UDP port for IKE"), 500),
  natt_port: v.optional(int(1, 65535, "UDP port for NAT-T (IKE and ESP-in-UDP)"), 4500),
  tun_name: v.optional(
    text(/^[A-Za-z0-9_.-]{1,15}$/, "must be 1-15 of A-Z a-z 0-9 _ . -", "TUN device name"),
    "bg0",
  ),
  mtu: v.optional(int(576, 9000, "MTU of the TUN device"), 1400),
  local_id: v.optional(
    v.pipe(identity, v.description("our IKE identity (default: the address used)")),
  ),
  log_level: v.optional(
    v.pipe(
      v.picklist(LOG_LEVELS, "must be debug, info, warn or error"),
      v.description("log level"),
    ),
    "info",
  ),
  syslog: v.optional(
    v.pipe(v.boolean("must be true or false"), v.description("also log to syslog")),
    false,
  ),
  replay_window: v.optional(
    int(0, 1 << 20, "default ESP anti-replay window in packets (0 disables)"),
    1024,
  ),
  natt_keepalive: v.optional(
    int(0, 3600, "NAT keepalive interval behind a NAT, seconds (0: off; RFC 3948 §2.3)"),
    20,
  ),
  crypto_device: v.optional(
    text(
      /^\/[A-Za-z0-9_.\/-]{1,255}$/,
      "must be an absolute path",
      "crypto device (cryptodev-linux)",
    ),
    "/dev/crypto",
  ),
  datapath: v.optional(
    v.pipe(
      v.picklist(["main", "worker"], "must be main or worker"),
      v.description(
        "where ESP runs: main (one isolate, ~25 MiB less) or worker (a thread of its own)",
      ),
    ),
    "main",
  ),
  crypto_offload: v.optional(
    v.pipe(
      v.picklist(["auto", "cryptodev", "off"], "must be auto, cryptodev or off"),
      v.description("hardware crypto: auto (calibrated), cryptodev (forced) or off"),
    ),
    "auto",
  ),
});

/** The algorithm profiles a peer can ask for. */
export const PROFILES = ["default", "legacy"] as const;

/** What brings a tunnel up (strongSwan's names): answer only, dial at once, dial on traffic. */
export const START_ACTIONS = ["none", "start", "trap"] as const;

/** `[[peer]]`: one remote office. */
export const PeerSchema = v.strictObject({
  name: v.pipe(
    text(
      /^[A-Za-z][A-Za-z0-9_-]{0,31}$/,
      "must start with a letter; 1-32 of A-Z a-z 0-9 _ -",
      "peer name",
    ),
    v.metadata({ required: true }),
  ),
  remote: v.pipe(
    v.union(
      [v.literal("%any"), ipAddress, hostName],
      "must be an IPv4 or IPv6 address, a DNS name, or %any",
    ),
    v.description("peer's outer address or DNS name (A/AAAA, resolved per attempt), or %any"),
    v.metadata({ required: true }),
  ),
  start_action: v.optional(
    v.pipe(
      v.picklist(START_ACTIONS, "must be none, start or trap"),
      v.description("none: only answer; start: dial and keep up; trap: dial on first packet"),
    ),
    "none",
  ),
  ike_version: v.optional(
    v.pipe(
      v.picklist([1, 2], "must be 1 (IKEv1) or 2 (IKEv2)"),
      v.description("IKE version"),
    ),
    1,
  ),
  mode: v.optional(
    v.pipe(
      v.picklist(["main", "aggressive"], "must be main or aggressive"),
      v.description("IKEv1 phase 1 mode (IKEv1 only)"),
    ),
    "main",
  ),
  auth: v.optional(
    v.pipe(
      v.picklist(["psk", "pubkey"], "must be psk or pubkey"),
      v.description("authentication method (pubkey: X.509 certificates)"),
    ),
    "psk",
  ),
  cert: v.optional(v.pipe(filePath, v.description("our certificate, PEM or DER (auth pubkey)"))),
  key: v.optional(
    v.pipe(filePath, v.description("our private key file, mode 0600 (auth pubkey)")),
  ),
  ca: v.optional(list(filePath, "trust anchors and intermediate CA certificates (auth pubkey)")),
  crl: v.optional(list(filePath, "certificate revocation lists (auth pubkey)")),
  psk: v.optional(
    v.pipe(
      v.string("must be a string"),
      v.minLength(8, "must be at least 8 characters"),
      v.maxLength(1024, "must be at most 1024 characters"),
      v.description("pre-shared key (shown masked)"),
      v.metadata({ secret: true }),
    ),
  ),
  psk_file: v.optional(
    v.pipe(
      v.string("must be a string"),
      v.minLength(1, "must not be empty"),
      v.description("file holding the pre-shared key"),
    ),
  ),
  local_id: v.optional(v.pipe(identity, v.description("our identity towards this peer"))),
  remote_id: v.optional(
    v.pipe(
      identity,
      v.description("identity the peer must present (DN or SAN with pubkey; '*.' wildcard)"),
    ),
  ),
  ike_proposals: v.optional(
    list(proposal, "IKE proposals, strongSwan syntax (aes256-sha256-modp3072)"),
    ["aes256-sha256-modp3072", "aes128-sha256-modp2048"],
  ),
  esp_proposals: v.optional(
    list(proposal, "ESP proposals, strongSwan syntax (aes256gcm16-modp3072)"),
    ["aes256gcm16", "aes128gcm16"],
  ),
  local_ts: list(selector, "our protected subnets (CIDR or range)"),
  remote_ts: list(selector, "peer's protected subnets (CIDR or range)"),
  ike_lifetime: v.optional(int(60, 86400, "IKE SA lifetime, seconds"), 14400),
  esp_lifetime: v.optional(int(60, 86400, "ESP SA lifetime, seconds"), 3600),
  esp_lifetime_bytes: v.optional(
    int(0, Number.MAX_SAFE_INTEGER, "ESP SA lifetime, bytes (0: none)"),
    0,
  ),
  rekey_margin: v.optional(int(0, 86400, "rekey this many seconds before expiry"), 540),
  dpd_delay: v.optional(int(0, 3600, "dead peer detection interval, seconds (0: off)"), 30),
  dpd_timeout: v.optional(int(0, 86400, "declare the peer dead after, seconds"), 150),
  encap: v.optional(
    v.pipe(v.boolean("must be true or false"), v.description("force UDP encapsulation")),
    false,
  ),
  profile: v.optional(
    v.pipe(
      v.picklist(PROFILES, "must be default or legacy"),
      v.description("legacy allows MODP-768/1024, DES and MD5"),
    ),
    "default",
  ),
  replay_window: v.optional(int(0, 1 << 20, "ESP anti-replay window (default: gateway's)")),
});

/** The whole file. */
export const ConfigSchema = v.strictObject({
  gateway: v.optional(GatewaySchema, {}),
  peer: v.optional(v.array(PeerSchema, "must be a list of [[peer]] tables"), []),
});

/** `[gateway]` with defaults applied. */
export type GatewayConfig = v.InferOutput<typeof GatewaySchema>;
/** One `[[peer]]` with defaults applied. */
export type PeerConfig = v.InferOutput<typeof PeerSchema>;
/** A validated config with defaults applied. */
export type Config = v.InferOutput<typeof ConfigSchema>;
