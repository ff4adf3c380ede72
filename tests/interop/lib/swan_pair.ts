/**
 * Two strongSwan gateways facing each other across the {@link TwoSites} topology: the
 * strongSwan↔strongSwan baseline of the harness test and of the tunnel benchmark.
 * @module
 */

import type { Lab } from "./netns.ts";
import { StrongswanPeer } from "./strongswan.ts";
import type { SwanConnection, SwanPsk } from "./swanctl_conf.ts";
import type { Site, TwoSites } from "./topology.ts";

/** Connection name both gateways use. */
export const PAIR_CONNECTION = "site";
/** Child name both gateways use. */
export const PAIR_CHILD = "lan";

/** Options for {@link startSwanPair}. */
export interface PairOptions {
  /** IKE proposal (default "aes256-sha256-modp2048"). */
  readonly ike?: string;
  /** ESP proposal (default "aes128gcm16"). */
  readonly esp?: string;
  /** IKE version (default 1: Main Mode). */
  readonly version?: 1 | 2;
  /** The test-only pre-shared key both sides share. */
  readonly psk: string;
}

/** The gateway connection of `me` towards `peer`: both LANs as one CHILD_SA, ESP in UDP. */
export function siteConnection(me: Site, peer: Site, opts: PairOptions): SwanConnection {
  return {
    name: PAIR_CONNECTION,
    version: opts.version ?? 1,
    localAddrs: [me.outerAddress],
    remoteAddrs: [peer.outerAddress],
    proposals: [opts.ike ?? "aes256-sha256-modp2048"],
    encap: true,
    localId: me.outerAddress,
    remoteId: peer.outerAddress,
    children: [{
      name: PAIR_CHILD,
      localTs: [me.lan],
      remoteTs: [peer.lan],
      espProposals: [opts.esp ?? "aes128gcm16"],
    }],
  };
}

/** Both gateways of a strongSwan↔strongSwan tunnel (not yet initiated). */
export interface SwanPair {
  /** strongSwan on side A's gateway (the initiator in tests). */
  readonly a: StrongswanPeer;
  /** strongSwan on side B's gateway. */
  readonly b: StrongswanPeer;
}

/** Starts charon on both gateways with mirrored connections loaded. */
export async function startSwanPair(
  lab: Lab,
  sites: TwoSites,
  opts: PairOptions,
): Promise<SwanPair> {
  const secrets: SwanPsk[] = [{
    name: "pair",
    ids: [sites.a.outerAddress, sites.b.outerAddress],
    secret: opts.psk,
  }];
  const [a, b] = await Promise.all([
    StrongswanPeer.start(lab, {
      name: "a",
      ns: sites.a.gw,
      config: { connections: [siteConnection(sites.a, sites.b, opts)], secrets },
    }),
    StrongswanPeer.start(lab, {
      name: "b",
      ns: sites.b.gw,
      config: { connections: [siteConnection(sites.b, sites.a, opts)], secrets },
    }),
  ]);
  return { a, b };
}
