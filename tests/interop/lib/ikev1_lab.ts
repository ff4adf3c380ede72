/**
 * The IKEv1 interop lab: the {@link TwoSites} topology with the responder under test on side
 * A (branchgate, or strongSwan as the reference) and a strongSwan initiator on side B holding
 * a catalogue of connections, one per scenario. The initiator uses one outer address per
 * responder peer (192.0.2.2 … .5 on its outer0), because IKEv1 Main Mode with PSK picks the peer
 * by address; host B has a second address in the upper half of its LAN for the two-subnet
 * case. One lab serves many scenarios; each scenario terminates what it initiated.
 * @module
 */

import type { BgPeer } from "./branchgate_conf.ts";
import type { Lab } from "./netns.ts";
import { type Responder, StrongswanResponder } from "./responder.ts";
import { StrongswanPeer } from "./strongswan.ts";
import type { SwanChild, SwanConnection, SwanPsk } from "./swanctl_conf.ts";
import { LAN_IF, OUTER_IF, type TwoSites, twoSites } from "./topology.ts";

/** The initiator's outer address towards each responder peer. */
export const INITIATOR_ADDR = {
  hq: "192.0.2.2",
  office: "192.0.2.3",
  rekey: "192.0.2.4",
  guarded: "192.0.2.5",
} as const;

/** Host B's second address (in 203.0.113.128/25, the second CHILD_SA's subnet). */
export const HOST_B_UPPER = "203.0.113.200";
/** Host A's second address (in 198.51.100.128/25, the second CHILD_SA's other subnet). */
export const HOST_A_UPPER = "198.51.100.200";

/** Identities of the Aggressive Mode (FQDN) case. */
export const FQDN = { branch: "branch.example.net", office: "office.example.net" } as const;

/** Test-only pre-shared keys. */
export const PSK = {
  hq: "interop-hq-psk-0001",
  office: "interop-office-psk-0002",
  rekey: "interop-rekey-psk-0003",
  guarded: "interop-guarded-psk-0004",
  /** What the initiator wrongly uses towards "guarded". */
  wrong: "interop-WRONG-psk-0009",
} as const;

const LAN_A = "198.51.100.0/24";
const LAN_B = "203.0.113.0/24";

/** The responder's peers (the same description configures branchgate and the reference). */
export function responderPeers(): BgPeer[] {
  return [
    {
      name: "hq",
      remote: INITIATOR_ADDR.hq,
      psk: PSK.hq,
      ikeProposals: ["aes256-sha256-modp2048", "aes128-sha1-ecp256", "aes256-sha256-curve25519"],
      espProposals: [
        "aes128-sha256",
        "aes128-sha256-modp2048",
        "aes128gcm16",
        "aes256gcm16",
        "aes256gcm16-curve25519",
      ],
      localTs: [LAN_A],
      remoteTs: [LAN_B],
    },
    {
      name: "office",
      remote: "%any",
      mode: "aggressive",
      psk: PSK.office,
      localId: FQDN.branch,
      remoteId: FQDN.office,
      ikeProposals: ["aes256-sha256-modp2048"],
      espProposals: ["aes128gcm16"],
      localTs: [LAN_A],
      remoteTs: [LAN_B],
      encap: true,
    },
    {
      name: "rekey",
      remote: INITIATOR_ADDR.rekey,
      psk: PSK.rekey,
      ikeProposals: ["aes128-sha256-modp2048"],
      espProposals: ["aes128gcm16"],
      localTs: [LAN_A],
      remoteTs: [LAN_B],
      // Longer than the initiator's 2 s: while the initiator lives, its R-U-THEREs keep us from
      // sending ours (RFC 3706 §5.3: only when idle); once it is gone, ours find it dead.
      dpdDelay: 3,
      dpdTimeout: 9,
    },
    {
      name: "guarded",
      remote: INITIATOR_ADDR.guarded,
      psk: PSK.guarded,
      ikeProposals: ["aes256-sha256-modp2048"],
      espProposals: ["aes128gcm16"],
      localTs: [LAN_A],
      remoteTs: [LAN_B],
    },
  ];
}

function child(name: string, esp: string, extra: Partial<SwanChild> = {}): SwanChild {
  return { name, localTs: [LAN_B], remoteTs: [LAN_A], espProposals: [esp], ...extra };
}

function conn(
  name: string,
  local: string,
  proposal: string,
  children: SwanChild[],
  extra: Partial<SwanConnection> = {},
): SwanConnection {
  return {
    name,
    version: 1,
    localAddrs: [local],
    remoteAddrs: ["192.0.2.1"],
    localId: local,
    remoteId: "192.0.2.1",
    proposals: [proposal],
    encap: true,
    rekeyTime: 0,
    dpdDelay: 0,
    children,
    ...extra,
  };
}

/**
 * The initiator's connections. Children named here are what scenarios initiate; each name is
 * unique across connections so `swanctl --initiate --child NAME` is unambiguous.
 */
export function initiatorConnections(): SwanConnection[] {
  const { hq, office, rekey, guarded } = INITIATOR_ADDR;
  return [
    conn("hq-modp", hq, "aes256-sha256-modp2048", [
      child("modp", "aes128-sha256"),
      child("modp-pfs", "aes128-sha256-modp2048"),
      child("bad-esp", "aes256-sha512"),
    ]),
    conn("hq-ecp", hq, "aes128-sha1-ecp256", [child("ecp", "aes128gcm16")]),
    conn("hq-x25519", hq, "aes256-sha256-curve25519", [
      child("x25519", "aes256gcm16-curve25519"),
    ]),
    conn("hq-two", hq, "aes256-sha256-modp2048", [
      // Distinct subnets on both sides: kernel-libipsec cannot route one destination twice.
      child("lower", "aes128gcm16", {
        localTs: ["203.0.113.0/25"],
        remoteTs: ["198.51.100.0/25"],
      }),
      child("upper", "aes128gcm16", {
        localTs: ["203.0.113.128/25"],
        remoteTs: ["198.51.100.128/25"],
      }),
    ]),
    conn("hq-bad-ike", hq, "aes192-sha512-modp4096", [child("bad-ike", "aes128gcm16")]),
    conn("office-ag", office, "aes256-sha256-modp2048", [child("ag", "aes128gcm16")], {
      aggressive: true,
      localId: FQDN.office,
      remoteId: FQDN.branch,
    }),
    conn("rekey-qm", rekey, "aes128-sha256-modp2048", [
      child("rk-qm", "aes128gcm16", { rekeyTime: 6, lifeTime: 40, randTime: 0 }),
    ]),
    // strongSwan rekeys an IKEv1 Phase 1 by a new Main Mode that adopts the CHILD_SAs; the old
    // one is deleted (with a Delete) at its hard lifetime, rekey + over time = 14 s.
    conn("rekey-mm", rekey, "aes128-sha256-modp2048", [child("rk-mm", "aes128gcm16")], {
      rekeyTime: 6,
      randTime: 0,
      overTime: 8,
    }),
    conn("rekey-dpd", rekey, "aes128-sha256-modp2048", [child("rk-dpd", "aes128gcm16")], {
      dpdDelay: 2,
      dpdTimeout: 8,
    }),
    conn("guarded", guarded, "aes256-sha256-modp2048", [child("guarded", "aes128gcm16")]),
  ];
}

/** The initiator's PSKs (the wrong one towards "guarded"). */
export function initiatorSecrets(): SwanPsk[] {
  const us = "192.0.2.1";
  return [
    { name: "hq", ids: [INITIATOR_ADDR.hq, us], secret: PSK.hq },
    { name: "office", ids: [FQDN.office, FQDN.branch], secret: PSK.office },
    { name: "rekey", ids: [INITIATOR_ADDR.rekey, us], secret: PSK.rekey },
    { name: "guarded", ids: [INITIATOR_ADDR.guarded, us], secret: PSK.wrong },
  ];
}

/** Which responder the suite runs against: `BG_INTEROP_RESPONDER`, default branchgate. */
export function responderKind(): "branchgate" | "strongswan" {
  const v = Deno.env.get("BG_INTEROP_RESPONDER") ?? "branchgate";
  if (v !== "branchgate" && v !== "strongswan") {
    throw new RangeError(`BG_INTEROP_RESPONDER must be branchgate or strongswan, not '${v}'`);
  }
  return v;
}

/** A started IKEv1 lab. */
export interface Ikev1Lab {
  /** The namespaces and processes. */
  readonly lab: Lab;
  /** Addresses and namespaces. */
  readonly sites: TwoSites;
  /** The responder under test on side A. */
  readonly responder: Responder;
  /** The strongSwan initiator on side B. */
  readonly initiator: StrongswanPeer;
}

/** Factory of the branchgate responder (kept apart so this module has no daemon import). */
export type ResponderFactory = (
  lab: Lab,
  setup: { ns: string; address: string; peers: BgPeer[] },
) => Promise<Responder>;

/** Builds the topology, the extra addresses, the responder (via `factory`) and the initiator. */
export async function startIkev1Lab(lab: Lab, factory?: ResponderFactory): Promise<Ikev1Lab> {
  const sites = await twoSites(lab);
  for (const addr of [INITIATOR_ADDR.office, INITIATOR_ADDR.rekey, INITIATOR_ADDR.guarded]) {
    await lab.mustExec(sites.b.gw, ["ip", "addr", "add", `${addr}/24`, "dev", OUTER_IF]);
  }
  await lab.mustExec(sites.b.host, ["ip", "addr", "add", `${HOST_B_UPPER}/24`, "dev", LAN_IF]);
  await lab.mustExec(sites.a.host, ["ip", "addr", "add", `${HOST_A_UPPER}/24`, "dev", LAN_IF]);
  // kernel-libipsec routes a CHILD_SA only with a local address inside its local selector.
  await lab.mustExec(sites.a.gw, ["ip", "addr", "add", "198.51.100.129/24", "dev", LAN_IF]);
  await lab.mustExec(sites.b.gw, ["ip", "addr", "add", "203.0.113.129/24", "dev", LAN_IF]);
  const setup = { ns: sites.a.gw, address: sites.a.outerAddress, peers: responderPeers() };
  const responder = factory === undefined
    ? await StrongswanResponder.start(lab, setup)
    : await factory(lab, setup);
  const initiator = await StrongswanPeer.start(lab, {
    name: "init",
    ns: sites.b.gw,
    config: { connections: initiatorConnections(), secrets: initiatorSecrets() },
    charon: { logLevels: { ike: 2, cfg: 2 }, deleteRekeyed: true },
  });
  return { lab, sites, responder, initiator };
}
