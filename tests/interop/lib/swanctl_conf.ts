/**
 * swanctl.conf for a strongSwan test peer, generated from a typed description: connections
 * (IKEv1 or IKEv2, Main or Aggressive Mode, PSK, proposals in strongSwan syntax, traffic
 * selectors, UDP encapsulation, rekey and DPD settings) and PSK secrets.
 *
 * Every value is checked against a narrow pattern before it is written, so a description can
 * never inject configuration; PSKs are written hex-encoded (`0x…`), never as text.
 * @module
 */

/** A CHILD_SA (IKEv1: a Quick Mode SA pair) of a connection. */
export interface SwanChild {
  /** Child name (used by `swanctl --initiate --child`). */
  readonly name: string;
  /** Local traffic selectors, e.g. "198.51.100.0/24" or "198.51.100.0/24[tcp/80]". */
  readonly localTs: readonly string[];
  /** Remote traffic selectors. */
  readonly remoteTs: readonly string[];
  /** ESP proposals in strongSwan syntax, e.g. "aes128gcm16-modp2048" (a group means PFS). */
  readonly espProposals: readonly string[];
  /** Seconds until the CHILD_SA is rekeyed (strongSwan `rekey_time`). */
  readonly rekeyTime?: number;
  /** Hard lifetime in seconds (`life_time`). */
  readonly lifeTime?: number;
  /** Randomisation subtracted from `rekey_time` (`rand_time`); 0 for exact timing in tests. */
  readonly randTime?: number;
  /** Bytes until rekey (`rekey_bytes`). */
  readonly rekeyBytes?: number;
  /** What to do on load: nothing, install a trap, or initiate at once. */
  readonly startAction?: "none" | "trap" | "start";
  /** What to do when DPD declares the peer dead. */
  readonly dpdAction?: "clear" | "trap" | "restart";
  /** What to do when the peer closes the CHILD_SA. */
  readonly closeAction?: "none" | "trap" | "start";
}

/** An IKE connection with PSK authentication. */
export interface SwanConnection {
  /** Connection name (used by `swanctl --initiate --ike`). */
  readonly name: string;
  /** IKE version. */
  readonly version: 1 | 2;
  /** IKEv1 Aggressive Mode instead of Main Mode. */
  readonly aggressive?: boolean;
  /** Our outer addresses. */
  readonly localAddrs: readonly string[];
  /** The peer's outer addresses ("%any" allowed). */
  readonly remoteAddrs: readonly string[];
  /** The peer's IKE port, if not 500. */
  readonly remotePort?: number;
  /** IKE proposals in strongSwan syntax, e.g. "aes256-sha256-modp2048". */
  readonly proposals: readonly string[];
  /** Force UDP encapsulation of ESP (needed by kernel-libipsec in strongSwan 5.9). */
  readonly encap?: boolean;
  /** Our identity (defaults to our address). */
  readonly localId?: string;
  /** The identity we expect of the peer (defaults to its address). */
  readonly remoteId?: string;
  /** Seconds until the IKE SA is rekeyed (IKEv1: a new Main Mode, `rekey_time`). */
  readonly rekeyTime?: number;
  /** Seconds until the IKE SA is reauthenticated (`reauth_time`). */
  readonly reauthTime?: number;
  /** Hard limit after a due rekey (`over_time`). */
  readonly overTime?: number;
  /** Randomisation of IKE rekey (`rand_time`). */
  readonly randTime?: number;
  /** Seconds between DPD checks, 0 disables (`dpd_delay`). */
  readonly dpdDelay?: number;
  /** IKEv1 only: seconds without answer before the peer is dead (`dpd_timeout`). */
  readonly dpdTimeout?: number;
  /** Whether to offer/accept IKE fragmentation. */
  readonly fragmentation?: "yes" | "no" | "accept" | "force";
  /** Authentication (default psk); pubkey uses `certs` (files in the swanctl x509/ dir). */
  readonly auth?: "psk" | "pubkey";
  /** Our certificate file names (x509/), with auth pubkey. */
  readonly certs?: readonly string[];
  /** Send our certificate: always, or only when asked (strongSwan `send_cert`). */
  readonly sendCert?: "always" | "ifasked" | "never";
  /** The connection's children. */
  readonly children: readonly SwanChild[];
}

/** An IKE pre-shared key and the identities it is for. */
export interface SwanPsk {
  /** Section name (any unique word). */
  readonly name: string;
  /** Identities the key applies to (both ends' IDs, or addresses). */
  readonly ids: readonly string[];
  /** The key itself (text); written hex-encoded. */
  readonly secret: string;
}

/** Everything in one generated swanctl.conf. */
export interface SwanConfig {
  /** Connections. */
  readonly connections: readonly SwanConnection[];
  /** PSKs. */
  readonly secrets: readonly SwanPsk[];
}

/** A description value that cannot be written safely; names the field, never a secret. */
export class SwanConfigError extends Error {
  /** Path of the offending field, e.g. "connections.hq.children.net.localTs". */
  readonly field: string;

  /** Builds the error. */
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "SwanConfigError";
    this.field = field;
  }
}

const NAME = /^[A-Za-z0-9_-]{1,32}$/;
const PROPOSAL = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const ADDRESS = /^(?:%any|[0-9a-fA-F.:]+(?:\/\d{1,3})?)$/;
const TS = /^[0-9a-fA-F.:]+(?:\/\d{1,3}|-[0-9a-fA-F.:]+)?(?:\[[a-z0-9%]*(?:\/[a-z0-9%-]*)?\])?$/;
// Distinguished names ("C=CH, O=Example, CN=gw") need spaces and commas; quotes and
// backslashes stay out (the value is written in double quotes).
const IDENTITY = /^[A-Za-z0-9@#.:_=+\/, -]{1,255}$/;

function check(field: string, value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new SwanConfigError(field, `'${value}' is not ${what}`);
  return value;
}

function checkSeconds(field: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SwanConfigError(field, `${value} is not a whole non-negative number`);
  }
  return value;
}

function list(field: string, values: readonly string[], pattern: RegExp, what: string): string {
  if (values.length === 0) throw new SwanConfigError(field, "must not be empty");
  return values.map((v, i) => check(`${field}[${i}]`, v, pattern, what)).join(",");
}

/** Collects `key = value` lines, skipping undefined values. */
class Block {
  readonly lines: string[] = [];
  constructor(readonly indent: string) {}
  set(key: string, value: string | number | boolean | undefined): void {
    if (value === undefined) return;
    const text = typeof value === "boolean" ? (value ? "yes" : "no") : String(value);
    this.lines.push(`${this.indent}${key} = ${text}`);
  }
  open(name: string): Block {
    this.lines.push(`${this.indent}${name} {`);
    return new Block(`${this.indent}  `);
  }
  close(inner: Block): void {
    this.lines.push(...inner.lines, `${this.indent}}`);
  }
}

function renderChild(parent: Block, field: string, child: SwanChild): void {
  check(`${field}.name`, child.name, NAME, "a name");
  const c = parent.open(child.name);
  c.set("local_ts", list(`${field}.localTs`, child.localTs, TS, "a traffic selector"));
  c.set("remote_ts", list(`${field}.remoteTs`, child.remoteTs, TS, "a traffic selector"));
  c.set("esp_proposals", list(`${field}.espProposals`, child.espProposals, PROPOSAL, "a proposal"));
  c.set("mode", "tunnel");
  c.set("rekey_time", checkSeconds(`${field}.rekeyTime`, child.rekeyTime));
  c.set("life_time", checkSeconds(`${field}.lifeTime`, child.lifeTime));
  c.set("rand_time", checkSeconds(`${field}.randTime`, child.randTime));
  c.set("rekey_bytes", checkSeconds(`${field}.rekeyBytes`, child.rekeyBytes));
  c.set("start_action", child.startAction ?? "none");
  c.set("dpd_action", child.dpdAction);
  c.set("close_action", child.closeAction);
  parent.close(c);
}

function quoteId(field: string, id: string): string {
  return `"${check(field, id, IDENTITY, "an identity")}"`;
}

function renderConnection(parent: Block, field: string, conn: SwanConnection): void {
  check(`${field}.name`, conn.name, NAME, "a name");
  if (conn.aggressive === true && conn.version !== 1) {
    throw new SwanConfigError(`${field}.aggressive`, "Aggressive Mode exists only in IKEv1");
  }
  if (conn.dpdTimeout !== undefined && conn.version !== 1) {
    throw new SwanConfigError(`${field}.dpdTimeout`, "dpd_timeout exists only in IKEv1");
  }
  if (conn.children.length === 0) throw new SwanConfigError(`${field}.children`, "none given");
  const b = parent.open(conn.name);
  b.set("version", conn.version);
  b.set("aggressive", conn.aggressive);
  b.set("local_addrs", list(`${field}.localAddrs`, conn.localAddrs, ADDRESS, "an address"));
  b.set("remote_addrs", list(`${field}.remoteAddrs`, conn.remoteAddrs, ADDRESS, "an address"));
  b.set("remote_port", checkSeconds(`${field}.remotePort`, conn.remotePort));
  b.set("proposals", list(`${field}.proposals`, conn.proposals, PROPOSAL, "a proposal"));
  b.set("encap", conn.encap);
  b.set("rekey_time", checkSeconds(`${field}.rekeyTime`, conn.rekeyTime));
  b.set("reauth_time", checkSeconds(`${field}.reauthTime`, conn.reauthTime));
  b.set("over_time", checkSeconds(`${field}.overTime`, conn.overTime));
  b.set("rand_time", checkSeconds(`${field}.randTime`, conn.randTime));
  b.set("dpd_delay", checkSeconds(`${field}.dpdDelay`, conn.dpdDelay));
  b.set("dpd_timeout", checkSeconds(`${field}.dpdTimeout`, conn.dpdTimeout));
  b.set("fragmentation", conn.fragmentation);
  b.set("send_cert", conn.sendCert);
  const local = b.open("local");
  local.set("auth", conn.auth ?? "psk");
  if (conn.certs !== undefined) {
    local.set("certs", list(`${field}.certs`, conn.certs, /^[A-Za-z0-9_.-]+$/, "a file name"));
  }
  local.set(
    "id",
    conn.localId === undefined ? undefined : quoteId(`${field}.localId`, conn.localId),
  );
  b.close(local);
  const remote = b.open("remote");
  remote.set("auth", conn.auth ?? "psk");
  remote.set(
    "id",
    conn.remoteId === undefined ? undefined : quoteId(`${field}.remoteId`, conn.remoteId),
  );
  b.close(remote);
  const children = b.open("children");
  const seen = new Set<string>();
  conn.children.forEach((child, i) => {
    if (seen.has(child.name)) {
      throw new SwanConfigError(`${field}.children[${i}]`, `duplicate name '${child.name}'`);
    }
    seen.add(child.name);
    renderChild(children, `${field}.children.${child.name}`, child);
  });
  b.close(children);
  parent.close(b);
}

function hex(text: string): string {
  return Array.from(new TextEncoder().encode(text), (x) => x.toString(16).padStart(2, "0")).join(
    "",
  );
}

/** Renders the swanctl.conf text; throws {@link SwanConfigError} for unsafe or invalid values. */
export function renderSwanctlConf(config: SwanConfig): string {
  const top = new Block("");
  const conns = top.open("connections");
  const names = new Set<string>();
  for (const conn of config.connections) {
    if (names.has(conn.name)) {
      throw new SwanConfigError("connections", `duplicate name '${conn.name}'`);
    }
    names.add(conn.name);
    renderConnection(conns, `connections.${conn.name}`, conn);
  }
  top.close(conns);
  const secrets = top.open("secrets");
  config.secrets.forEach((psk, i) => {
    const field = `secrets[${i}]`;
    check(`${field}.name`, psk.name, NAME, "a name");
    if (psk.secret.length === 0) throw new SwanConfigError(`${field}.secret`, "empty key");
    if (psk.ids.length === 0) throw new SwanConfigError(`${field}.ids`, "must not be empty");
    const s = secrets.open(`ike-${psk.name}`);
    psk.ids.forEach((id, j) => s.set(`id-${j + 1}`, quoteId(`${field}.ids[${j}]`, id)));
    s.set("secret", `0x${hex(psk.secret)}`);
    secrets.close(s);
  });
  top.close(secrets);
  return top.lines.join("\n") + "\n";
}
