/**
 * A site-to-site tunnel in the {@link TwoSites} topology whose side-A gateway is either
 * strongSwan or branchgate (the "gateway side" under test) and whose side-B gateway is always
 * strongSwan, the initiator. Used by the benchmark and by traffic tests.
 * @module
 */

import { BranchgateDaemon } from "./branchgate.ts";
import type { Lab } from "./netns.ts";
import { StrongswanPeer } from "./strongswan.ts";
import { PAIR_CHILD, siteConnection } from "./swan_pair.ts";
import type { SwanPsk } from "./swanctl_conf.ts";
import type { TwoSites } from "./topology.ts";

/** Which implementation runs the side-A gateway. */
export type GatewaySide = "strongswan" | "branchgate";

/** Algorithms of the tunnel, strongSwan syntax. */
export interface TunnelOptions {
  /** IKE proposal (default "aes256-sha256-modp2048"). */
  readonly ike?: string;
  /** ESP proposal (default "aes128gcm16"). */
  readonly esp?: string;
  /** Test-only pre-shared key. */
  readonly psk: string;
}

/** An established tunnel. */
export interface Tunnel {
  /** What runs side A. */
  readonly side: GatewaySide;
  /** The side-B strongSwan (initiator). */
  readonly remote: StrongswanPeer;
  /** Side A when it is strongSwan. */
  readonly swanA?: StrongswanPeer;
  /** Side A when it is branchgate. */
  readonly daemon?: BranchgateDaemon;
}

/** Starts side A as `side`, side B as strongSwan, and has B initiate the CHILD_SA. */
export async function bringUpTunnel(
  lab: Lab,
  sites: TwoSites,
  side: GatewaySide,
  opts: TunnelOptions,
): Promise<Tunnel> {
  const pair = { ike: opts.ike ?? "aes256-sha256-modp2048", esp: opts.esp ?? "aes128gcm16" };
  const secrets: SwanPsk[] = [{
    name: "tunnel",
    ids: [sites.a.outerAddress, sites.b.outerAddress],
    secret: opts.psk,
  }];
  let swanA: StrongswanPeer | undefined;
  let daemon: BranchgateDaemon | undefined;
  if (side === "strongswan") {
    swanA = await StrongswanPeer.start(lab, {
      name: "a",
      ns: sites.a.gw,
      config: { connections: [siteConnection(sites.a, sites.b, { ...pair, ...opts })], secrets },
    });
  } else {
    daemon = await BranchgateDaemon.start(lab, {
      name: "bg",
      ns: sites.a.gw,
      config: {
        listen: [sites.a.outerAddress],
        peers: [{
          name: "remote",
          remote: sites.b.outerAddress,
          psk: opts.psk,
          ikeProposals: [pair.ike],
          espProposals: [pair.esp],
          localTs: [sites.a.lan],
          remoteTs: [sites.b.lan],
          encap: true,
        }],
      },
    });
  }
  const remote = await StrongswanPeer.start(lab, {
    name: "b",
    ns: sites.b.gw,
    config: { connections: [siteConnection(sites.b, sites.a, { ...pair, ...opts })], secrets },
  });
  await remote.initiate(PAIR_CHILD);
  return {
    side,
    remote,
    ...(swanA === undefined ? {} : { swanA }),
    ...(daemon === undefined ? {} : { daemon }),
  };
}
