/**
 * The standard two-site topology of the interop tests, the benchmarks and the demo:
 *
 * ```
 * hostA 198.51.100.10 ─ 198.51.100.1 gwA 192.0.2.1 ═ 192.0.2.2 gwB 203.0.113.1 ─ 203.0.113.10 hostB
 * ```
 *
 * Four namespaces: two gateways joined by the "outer" veth (192.0.2.0/24), each with a host
 * namespace behind it on its inner LAN (198.51.100.0/24 and 203.0.113.0/24), default route via
 * its gateway, forwarding on in the gateways. TEST-NET addresses only.
 * @module
 */

import type { Lab } from "./netns.ts";

/** One side of the topology. */
export interface Site {
  /** Gateway namespace. */
  readonly gw: string;
  /** Host namespace behind the gateway. */
  readonly host: string;
  /** Gateway's outer address (on interface `outer0`). */
  readonly outerAddress: string;
  /** Gateway's address on the inner LAN (on interface `lan0`). */
  readonly gwInnerAddress: string;
  /** The host's address (on its interface `lan0`). */
  readonly hostAddress: string;
  /** The inner LAN as a prefix. */
  readonly lan: string;
}

/** Both sides. */
export interface TwoSites {
  /** Side A: the branch (branchgate in the demo). */
  readonly a: Site;
  /** Side B: the remote office (strongSwan). */
  readonly b: Site;
}

/** Outer interface name in each gateway namespace. */
export const OUTER_IF = "outer0";
/** Inner LAN interface name in gateway and host namespaces. */
export const LAN_IF = "lan0";

const SIDE_A = {
  outerAddress: "192.0.2.1",
  gwInnerAddress: "198.51.100.1",
  hostAddress: "198.51.100.10",
  lan: "198.51.100.0/24",
} as const;
const SIDE_B = {
  outerAddress: "192.0.2.2",
  gwInnerAddress: "203.0.113.1",
  hostAddress: "203.0.113.10",
  lan: "203.0.113.0/24",
} as const;

/** Creates the four namespaces and their links inside `lab`. */
export async function twoSites(lab: Lab): Promise<TwoSites> {
  const gwA = await lab.addNamespace("gwa");
  const gwB = await lab.addNamespace("gwb");
  const hostA = await lab.addNamespace("hosta");
  const hostB = await lab.addNamespace("hostb");
  await lab.veth(
    { ns: gwA, ifname: OUTER_IF, cidr: `${SIDE_A.outerAddress}/24` },
    { ns: gwB, ifname: OUTER_IF, cidr: `${SIDE_B.outerAddress}/24` },
  );
  const a: Site = { gw: gwA, host: hostA, ...SIDE_A };
  const b: Site = { gw: gwB, host: hostB, ...SIDE_B };
  for (const site of [a, b]) {
    const prefix = site.lan.split("/")[1];
    await lab.veth(
      { ns: site.gw, ifname: LAN_IF, cidr: `${site.gwInnerAddress}/${prefix}` },
      { ns: site.host, ifname: LAN_IF, cidr: `${site.hostAddress}/${prefix}` },
    );
    await lab.route(site.host, "default", site.gwInnerAddress);
    await lab.enableForwarding(site.gw);
  }
  return { a, b };
}
