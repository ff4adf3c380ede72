/**
 * Parses `swanctl --list-sas --pretty` output (vici `list-sa` events rendered as nested
 * `name {` … `}` sections, `key = value` pairs and `key = [` … `]` lists) into typed IKE and
 * CHILD_SA records, so tests can compare strongSwan's view with branchgate's SA table.
 * @module
 */

/** Output that does not have the shape swanctl prints; names the line. */
export class ListSasParseError extends Error {
  /** 1-based line number. */
  readonly line: number;

  /** Builds the error for `line` with a reason. */
  constructor(line: number, reason: string) {
    super(`swanctl --list-sas line ${line}: ${reason}`);
    this.name = "ListSasParseError";
    this.line = line;
  }
}

/** A section of the pretty output: scalar values, lists and nested sections by key. */
export interface Section {
  /** `key = value` pairs. */
  readonly values: Map<string, string>;
  /** `key = [ … ]` lists. */
  readonly lists: Map<string, string[]>;
  /** Nested `name { … }` sections, in order. */
  readonly sections: [string, Section][];
}

/** One CHILD_SA as strongSwan reports it. */
export interface ChildSaInfo {
  /** Configured child name. */
  readonly name: string;
  /** charon's unique id of this CHILD_SA instance. */
  readonly uniqueId: number;
  /** State, e.g. "INSTALLED", "REKEYED", "DELETING". */
  readonly state: string;
  /** "TUNNEL" or "TRANSPORT". */
  readonly mode: string;
  /** True for UDP-encapsulated ESP. */
  readonly encap: boolean;
  /** Inbound SPI (what the peer puts on packets to strongSwan). */
  readonly spiIn: number;
  /** Outbound SPI (what strongSwan puts on packets to the peer). */
  readonly spiOut: number;
  /** Encryption algorithm name, e.g. "AES_GCM_16", "AES_CBC". */
  readonly encrAlg: string;
  /** Encryption key size in bits, when reported. */
  readonly encrKeysize: number | undefined;
  /** Integrity algorithm, e.g. "HMAC_SHA2_256_128"; undefined for AEAD. */
  readonly integAlg: string | undefined;
  /** PFS group, when Quick Mode used one. */
  readonly dhGroup: string | undefined;
  /** Bytes received. */
  readonly bytesIn: number;
  /** Packets received. */
  readonly packetsIn: number;
  /** Bytes sent. */
  readonly bytesOut: number;
  /** Packets sent. */
  readonly packetsOut: number;
  /** Seconds until rekey, when scheduled. */
  readonly rekeyTime: number | undefined;
  /** Local traffic selectors, e.g. "198.51.100.0/24". */
  readonly localTs: readonly string[];
  /** Remote traffic selectors. */
  readonly remoteTs: readonly string[];
}

/** One IKE SA (IKEv1: ISAKMP SA) as strongSwan reports it. */
export interface IkeSaInfo {
  /** Connection name. */
  readonly name: string;
  /** charon's unique id of this IKE SA instance. */
  readonly uniqueId: number;
  /** 1 or 2. */
  readonly version: number;
  /** State, e.g. "ESTABLISHED", "CONNECTING", "REKEYED". */
  readonly state: string;
  /** Local outer address. */
  readonly localHost: string;
  /** Local port (4500 after the NAT-T float). */
  readonly localPort: number;
  /** Peer's outer address. */
  readonly remoteHost: string;
  /** Peer's port. */
  readonly remotePort: number;
  /** Own identity. */
  readonly localId: string;
  /** Peer's identity. */
  readonly remoteId: string;
  /** True when strongSwan initiated this SA. */
  readonly initiator: boolean;
  /** Initiator cookie/SPI, 16 hex digits. */
  readonly initiatorSpi: string;
  /** Responder cookie/SPI, 16 hex digits. */
  readonly responderSpi: string;
  /** Encryption algorithm, e.g. "AES_CBC". */
  readonly encrAlg: string;
  /** Encryption key size in bits, when reported. */
  readonly encrKeysize: number | undefined;
  /** Integrity algorithm, e.g. "HMAC_SHA2_256_128". */
  readonly integAlg: string | undefined;
  /** PRF, e.g. "PRF_HMAC_SHA2_256". */
  readonly prfAlg: string | undefined;
  /** DH group, e.g. "MODP_2048", "ECP_256", "CURVE_25519". */
  readonly dhGroup: string | undefined;
  /** The SA's CHILD_SAs. */
  readonly children: readonly ChildSaInfo[];
}

function emptySection(): Section {
  return { values: new Map(), lists: new Map(), sections: [] };
}

/** Parses the pretty output into its top-level sections (one per `list-sa event`). */
export function parseSections(text: string): [string, Section][] {
  const root = emptySection();
  const stack: Section[] = [root];
  let list: { key: string; items: string[] } | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const no = i + 1;
    if (line === "") continue;
    const top = stack[stack.length - 1]!;
    if (list !== undefined) {
      if (line === "]") {
        top.lists.set(list.key, list.items);
        list = undefined;
      } else {
        list.items.push(line);
      }
      continue;
    }
    if (line === "}") {
      if (stack.length === 1) throw new ListSasParseError(no, "unbalanced '}'");
      stack.pop();
      continue;
    }
    const open = line.match(/^(.+?) \{$/);
    if (open !== null) {
      const child = emptySection();
      top.sections.push([open[1]!, child]);
      stack.push(child);
      continue;
    }
    const kv = line.match(/^([A-Za-z0-9_-]+) = (.*)$/);
    if (kv === null) throw new ListSasParseError(no, `unexpected '${line.slice(0, 60)}'`);
    if (kv[2] === "[") list = { key: kv[1]!, items: [] };
    else top.values.set(kv[1]!, kv[2]!);
  }
  if (list !== undefined) {
    throw new ListSasParseError(lines.length, `list '${list.key}' not closed`);
  }
  if (stack.length !== 1) throw new ListSasParseError(lines.length, "section not closed");
  return root.sections;
}

function str(s: Section, key: string, where: string): string {
  const v = s.values.get(key);
  if (v === undefined) throw new ListSasParseError(0, `${where}: no '${key}'`);
  return v;
}

function int(s: Section, key: string, where: string, radix = 10): number {
  const text = str(s, key, where);
  const n = parseInt(text, radix);
  if (!Number.isFinite(n)) throw new ListSasParseError(0, `${where}: '${key}' is '${text}'`);
  return n;
}

function optInt(s: Section, key: string): number | undefined {
  const v = s.values.get(key);
  return v === undefined ? undefined : Number(v);
}

function child(s: Section, where: string): ChildSaInfo {
  return {
    name: str(s, "name", where),
    uniqueId: int(s, "uniqueid", where),
    state: str(s, "state", where),
    mode: str(s, "mode", where),
    encap: s.values.get("encap") === "yes",
    spiIn: int(s, "spi-in", where, 16),
    spiOut: int(s, "spi-out", where, 16),
    encrAlg: str(s, "encr-alg", where),
    encrKeysize: optInt(s, "encr-keysize"),
    integAlg: s.values.get("integ-alg"),
    dhGroup: s.values.get("dh-group"),
    bytesIn: int(s, "bytes-in", where),
    packetsIn: int(s, "packets-in", where),
    bytesOut: int(s, "bytes-out", where),
    packetsOut: int(s, "packets-out", where),
    rekeyTime: optInt(s, "rekey-time"),
    localTs: s.lists.get("local-ts") ?? [],
    remoteTs: s.lists.get("remote-ts") ?? [],
  };
}

function ike(name: string, s: Section): IkeSaInfo {
  const where = `IKE SA ${name}`;
  const childSection = s.sections.find(([k]) => k === "child-sas")?.[1];
  const state = str(s, "state", where);
  const established = state === "ESTABLISHED" || state === "REKEYED" || state === "DELETING";
  return {
    name,
    uniqueId: int(s, "uniqueid", where),
    version: int(s, "version", where),
    state,
    localHost: str(s, "local-host", where),
    localPort: int(s, "local-port", where),
    remoteHost: str(s, "remote-host", where),
    remotePort: int(s, "remote-port", where),
    localId: s.values.get("local-id") ?? "",
    remoteId: s.values.get("remote-id") ?? "",
    initiator: s.values.get("initiator") === "yes",
    initiatorSpi: str(s, "initiator-spi", where),
    responderSpi: s.values.get("responder-spi") ?? "",
    encrAlg: established ? str(s, "encr-alg", where) : (s.values.get("encr-alg") ?? ""),
    encrKeysize: optInt(s, "encr-keysize"),
    integAlg: s.values.get("integ-alg"),
    prfAlg: s.values.get("prf-alg"),
    dhGroup: s.values.get("dh-group"),
    children: (childSection?.sections ?? []).map(([k, c]) => child(c, `${where} child ${k}`)),
  };
}

/**
 * Parses `swanctl --list-sas --pretty`; every `list-sa event` section contributes its IKE SAs.
 * Throws {@link ListSasParseError} on output of another shape.
 */
export function parseListSas(text: string): IkeSaInfo[] {
  const out: IkeSaInfo[] = [];
  for (const [key, section] of parseSections(text)) {
    if (key !== "list-sa event") continue;
    for (const [name, s] of section.sections) out.push(ike(name, s));
  }
  return out;
}
