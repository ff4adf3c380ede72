/**
 * The IKEv2 interop lab: the {@link TwoSites} topology with the responder under test on side
 * A (branchgate with `ike_version = 2`, or strongSwan as the reference) and strongSwan 5.9.8 as
 * the IKEv2 initiator on side B, holding one connection per scenario. One peer on the
 * responder offers every suite the scenarios need; the initiator picks one per connection.
 * Host A and B get a second address for the two-CHILD_SA case.
 * @module
 */

import { BranchgateResponder } from "./branchgate_responder.ts";
import type { BgPeer } from "./branchgate_conf.ts";
import { HOST_A_UPPER, HOST_B_UPPER, type Ikev1Lab } from "./ikev1_lab.ts";
import type { Lab } from "./netns.ts";
import { StrongswanResponder } from "./responder.ts";
import { StrongswanPeer } from "./strongswan.ts";
import type { SwanChild, SwanConnection } from "./swanctl_conf.ts";
import { LAN_IF, twoSites } from "./topology.ts";

/** The initiator's outer address. */
export const INITIATOR = "192.0.2.2";
/**
 * Where the half-open flood comes from: the initiator's address (the configured peer, as an
 * attacker would spoof it) from another UDP port than charon's.
 */
export const FLOODER = { address: INITIATOR, port: 5500 } as const;
/** The responder peer's name. */
export const PEER = "v2";
/** Test-only PSK. */
export const PSK_V2 = "interop-ikev2-psk-0001";
/** The peer identified by distinguished names (ID_DER_ASN1_DN both ways, PSK). */
export const PEER_DN = "v2dn";
/** Its PSK (another one: the identity must pick the peer, RFC 7296 §2.15). */
export const PSK_DN = "interop-ikev2-dn-psk-02";
/** The initiator's DN identity. */
export const DN_BRANCH = "C=CH, O=branchgate lab, CN=branch-dn.example.net";
/** The responder's DN identity towards that peer. */
export const DN_GW = "C=CH, O=branchgate lab, CN=gw-dn.example.net";

const LAN_A = "198.51.100.0/24";
const LAN_B = "203.0.113.0/24";

/** IKE proposals the responder accepts (one per scenario suite). */
export const RESPONDER_IKE = [
  "aes128gcm16-prfsha256-ecp256",
  "aes256-sha256-modp3072",
  "aes256-sha256-curve25519",
  "chacha20poly1305-prfsha256-ecp256",
] as const;

/** ESP proposals the responder accepts. */
export const RESPONDER_ESP = [
  "aes128gcm16",
  "aes256-sha256-modp3072",
  "aes256gcm16",
  "chacha20poly1305",
] as const;

/**
 * The responder's peers: one identified by its address, one at the same address identified by
 * a DN (each with its own PSK).
 */
export function v2Peers(): BgPeer[] {
  const peer: BgPeer = {
    name: PEER,
    remote: INITIATOR,
    remoteId: INITIATOR,
    ikeVersion: 2,
    psk: PSK_V2,
    ikeProposals: [...RESPONDER_IKE],
    espProposals: [...RESPONDER_ESP],
    localTs: [LAN_A],
    remoteTs: [LAN_B],
    dpdDelay: 0,
  };
  return [peer, { ...peer, name: PEER_DN, remoteId: DN_BRANCH, localId: DN_GW, psk: PSK_DN }];
}

function child(name: string, esp: string, extra: Partial<SwanChild> = {}): SwanChild {
  return { name, localTs: [LAN_B], remoteTs: [LAN_A], espProposals: [esp], ...extra };
}

function conn(
  name: string,
  proposals: string[],
  children: SwanChild[],
  ids: { local: string; remote: string } = { local: INITIATOR, remote: "192.0.2.1" },
): SwanConnection {
  return {
    name,
    version: 2,
    localAddrs: [INITIATOR],
    remoteAddrs: ["192.0.2.1"],
    localId: ids.local,
    remoteId: ids.remote,
    proposals,
    encap: true,
    rekeyTime: 0,
    dpdDelay: 0,
    fragmentation: "yes",
    children,
  };
}

/** The initiator's connections; child names are unique across them. */
export function v2Connections(): SwanConnection[] {
  return [
    conn("gcm", ["aes128gcm16-prfsha256-ecp256"], [child("gcm", "aes128gcm16")]),
    conn("cbc", ["aes256-sha256-modp3072"], [child("cbc", "aes256-sha256-modp3072")]),
    conn("x25519", ["aes256-sha256-curve25519"], [child("x25519", "aes256gcm16")]),
    conn("chacha", ["chacha20poly1305-prfsha256-ecp256"], [child("chacha", "chacha20poly1305")]),
    // Its KE guess is MODP-2048 (first group of the first proposal); the responder wants
    // ECP-256 and says so with INVALID_KE_PAYLOAD.
    conn("ke", ["aes128gcm16-prfsha256-modp2048-ecp256"], [child("ke", "aes128gcm16")]),
    conn("two", ["aes128gcm16-prfsha256-ecp256"], [
      // Distinct subnets on both sides: kernel-libipsec cannot route one destination twice.
      child("lower", "aes128gcm16", { localTs: ["203.0.113.0/25"], remoteTs: ["198.51.100.0/25"] }),
      child("upper", "aes128gcm16", {
        localTs: ["203.0.113.128/25"],
        remoteTs: ["198.51.100.128/25"],
      }),
    ]),
    conn("badesp", ["aes128gcm16-prfsha256-ecp256"], [child("badesp", "aes256-sha512")]),
    conn("dn", ["aes128gcm16-prfsha256-ecp256"], [child("dn", "aes128gcm16")], {
      local: DN_BRANCH,
      remote: DN_GW,
    }),
  ];
}

/** Builds the topology, the extra addresses, the responder of `kind` and the initiator. */
export async function startIkev2Lab(
  lab: Lab,
  kind: "branchgate" | "strongswan",
): Promise<Ikev1Lab> {
  const sites = await twoSites(lab);
  await lab.mustExec(sites.b.host, ["ip", "addr", "add", `${HOST_B_UPPER}/24`, "dev", LAN_IF]);
  await lab.mustExec(sites.a.host, ["ip", "addr", "add", `${HOST_A_UPPER}/24`, "dev", LAN_IF]);
  // kernel-libipsec routes a CHILD_SA only with a local address inside its local selector.
  await lab.mustExec(sites.a.gw, ["ip", "addr", "add", "198.51.100.129/24", "dev", LAN_IF]);
  await lab.mustExec(sites.b.gw, ["ip", "addr", "add", "203.0.113.129/24", "dev", LAN_IF]);
  const setup = { ns: sites.a.gw, address: sites.a.outerAddress, peers: v2Peers() };
  const [responder, initiator] = await Promise.all([
    kind === "branchgate"
      ? BranchgateResponder.start(lab, setup)
      : StrongswanResponder.start(lab, setup),
    StrongswanPeer.start(lab, {
      name: "init",
      ns: sites.b.gw,
      config: {
        connections: v2Connections(),
        secrets: [
          { name: "v2", ids: [INITIATOR, "192.0.2.1"], secret: PSK_V2 },
          { name: "dn", ids: [DN_BRANCH, DN_GW], secret: PSK_DN },
        ],
      },
      charon: { logLevels: { ike: 2, cfg: 2 } },
    }),
  ]);
  return { lab, sites, responder, initiator };
}
