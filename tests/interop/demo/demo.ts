/**
 * `make run`: the demo. Two sites in network namespaces (TEST-NET addresses only):
 *
 *   hostA 198.51.100.10 - gwA 192.0.2.1 (branchgate) == 192.0.2.2 gwB (strongSwan) - 203.0.113.10 hostB
 *
 * branchgate runs as the branch gateway with the config embedded below; a Debian charon
 * (kernel-libipsec, own /run in a mount namespace) plays the remote office and initiates an
 * IKEv1 Main Mode + Quick Mode tunnel, UDP-encapsulated. The demo pings across the tunnel both
 * ways, prints `show ike sa` and `show esp sa` from branchgate's shell. Then the branch dials
 * in itself: branchgate restarts with `start_action = "start"` and brings the tunnel up as the
 * initiator (`show peers`, pings), first with IKEv1, then with IKEv2 against a charon restarted
 * as an IKEv2 responder. Everything it created is removed, also on Ctrl-C.
 * @module
 */

import { BranchgateDaemon } from "../lib/branchgate.ts";
import type { BgConfig } from "../lib/branchgate_conf.ts";
import { Lab } from "../lib/netns.ts";
import { StrongswanPeer } from "../lib/strongswan.ts";
import type { SwanConnection } from "../lib/swanctl_conf.ts";
import { type TwoSites, twoSites } from "../lib/topology.ts";

/** A demo-only key: the demo's namespaces are gone when it ends. */
export const DEMO_PSK = "branchgate-demo-psk-0001";

/** branchgate's config: one peer, the remote office. */
export const BRANCHGATE: BgConfig = {
  listen: ["192.0.2.1"],
  logLevel: "info",
  peers: [{
    name: "office",
    remote: "192.0.2.2",
    psk: DEMO_PSK,
    ikeProposals: ["aes256-sha256-modp2048"],
    espProposals: ["aes128gcm16"],
    localTs: ["198.51.100.0/24"],
    remoteTs: ["203.0.113.0/24"],
    encap: true,
  }],
};

function say(line: string): void {
  console.log(`demo: ${line}`);
}

/** Pings `to` from `from` in `ns` three times; the summary line, or throws. */
export async function ping(lab: Lab, ns: string, from: string, to: string): Promise<string> {
  const r = await lab.exec(ns, ["ping", "-c", "3", "-i", "0.3", "-W", "2", "-I", from, to]);
  const summary = r.stdout.split("\n").find((l) => l.includes("packets transmitted")) ?? "";
  if (r.code !== 0) throw new Error(`ping ${from} -> ${to} failed: ${summary || r.stderr}`);
  return summary;
}

/** The demo's two sites with branchgate on A and charon on B, both running, tunnel not up. */
export interface DemoLab {
  /** Namespaces and addresses. */
  readonly sites: TwoSites;
  /** branchgate on side A. */
  readonly bg: BranchgateDaemon;
  /** charon on side B (connection "branch", child "lan"). */
  readonly office: StrongswanPeer;
}

/** The remote office's connection (IKEv1 Main Mode, UDP-encapsulated ESP). */
export const OFFICE_CONNECTION: SwanConnection = {
  name: "branch",
  version: 1,
  localAddrs: ["192.0.2.2"],
  remoteAddrs: ["192.0.2.1"],
  localId: "192.0.2.2",
  remoteId: "192.0.2.1",
  proposals: ["aes256-sha256-modp2048"],
  encap: true,
  children: [{
    name: "lan",
    localTs: ["203.0.113.0/24"],
    remoteTs: ["198.51.100.0/24"],
    espProposals: ["aes128gcm16"],
  }],
};

/** Builds the topology and starts branchgate (config `config`) and charon. */
export async function startDemoLab(lab: Lab, config: BgConfig = BRANCHGATE): Promise<DemoLab> {
  const sites = await twoSites(lab);
  const bg = await BranchgateDaemon.start(lab, { name: "bg", ns: sites.a.gw, config });
  const office = await StrongswanPeer.start(lab, {
    name: "office",
    ns: sites.b.gw,
    config: {
      connections: [OFFICE_CONNECTION],
      secrets: [{ name: "branch", ids: ["192.0.2.2", "192.0.2.1"], secret: DEMO_PSK }],
    },
  });
  return { sites, bg, office };
}

async function demo(lab: Lab): Promise<void> {
  const t0 = Date.now();
  const { sites, bg, office } = await startDemoLab(lab);
  say(`namespaces ${lab.namespaces.join(" ")}`);
  say(`branchgate running in ${sites.a.gw} (pid ${bg.pid}), listening on 192.0.2.1:500`);
  say(`strongSwan charon running in ${sites.b.gw} (pid ${office.pid}); initiating IKEv1`);
  await office.initiate("lan");
  say("tunnel up");
  say(
    `ping hostA -> hostB: ${await ping(
      lab,
      sites.a.host,
      sites.a.hostAddress,
      sites.b.hostAddress,
    )}`,
  );
  say(
    `ping hostB -> hostA: ${await ping(
      lab,
      sites.b.host,
      sites.b.hostAddress,
      sites.a.hostAddress,
    )}`,
  );
  console.log("\nbranchgate> show ike sa");
  console.log((await bg.show("ike sa")).trimEnd());
  console.log("\nbranchgate> show esp sa");
  console.log((await bg.show("esp sa")).trimEnd());
  console.log("");
  const status = await bg.stop();
  say(
    `branchgate stopped (exit ${status.code}); demo took ${
      ((Date.now() - t0) / 1000).toFixed(1)
    } s`,
  );
  if (status.code !== 0) throw new Error(`branchgate exited with ${status.code}`);
  await office.waitForLog(/received DELETE for IKE_SA/, { timeoutMs: 5000 });
  say("strongSwan received branchgate's Deletes at shutdown");
  await dialIn(lab, sites);
  await dialInV2(lab, sites, office);
}

/** Waits until `bg` reports its peer up, then shows `show peers`, a ping and `show ike sa`. */
async function showDialled(
  lab: Lab,
  sites: TwoSites,
  bg: BranchgateDaemon,
  t0: number,
): Promise<void> {
  let peers = "";
  for (let i = 0; i < 100 && !/\bup\b/.test(peers); i++) {
    await new Promise((r) => setTimeout(r, 300));
    peers = await bg.show("peers");
  }
  if (!/\bup\b/.test(peers)) throw new Error(`the branch did not come up:\n${peers}`);
  say(`tunnel up, dialled by branchgate in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log("\nbranchgate> show peers");
  console.log(peers.trimEnd());
  say(
    `ping hostA -> hostB: ${await ping(
      lab,
      sites.a.host,
      sites.a.hostAddress,
      sites.b.hostAddress,
    )}`,
  );
  console.log("\nbranchgate> show ike sa");
  console.log((await bg.show("ike sa")).trimEnd());
  console.log("");
}

/** Part two: the branch dials its office (branchgate as the IKEv1 initiator). */
async function dialIn(lab: Lab, sites: TwoSites): Promise<void> {
  const t0 = Date.now();
  const config: BgConfig = {
    ...BRANCHGATE,
    peers: BRANCHGATE.peers.map((p) => ({ ...p, startAction: "start" as const })),
  };
  const bg = await BranchgateDaemon.start(lab, { name: "branch", ns: sites.a.gw, config });
  say(`branchgate restarted with start_action = "start" (pid ${bg.pid}): the branch dials in`);
  await showDialled(lab, sites, bg, t0);
  const status = await bg.stop();
  if (status.code !== 0) throw new Error(`branchgate exited with ${status.code}`);
  say("branchgate (initiator) stopped");
}

/** Part three: the office speaks IKEv2 now and the branch dials it with IKEv2. */
async function dialInV2(lab: Lab, sites: TwoSites, office: StrongswanPeer): Promise<void> {
  await office.stop();
  const office2 = await StrongswanPeer.start(lab, {
    name: "office2",
    ns: sites.b.gw,
    config: {
      connections: [{ ...OFFICE_CONNECTION, version: 2 }],
      secrets: [{ name: "branch", ids: ["192.0.2.2", "192.0.2.1"], secret: DEMO_PSK }],
    },
  });
  say(`strongSwan restarted as an IKEv2 responder (pid ${office2.pid})`);
  const t0 = Date.now();
  const config: BgConfig = {
    ...BRANCHGATE,
    peers: BRANCHGATE.peers.map((p) => ({ ...p, ikeVersion: 2, startAction: "start" as const })),
  };
  const bg = await BranchgateDaemon.start(lab, { name: "branch-v2", ns: sites.a.gw, config });
  say(`branchgate restarted with ike_version = 2, start_action = "start" (pid ${bg.pid})`);
  await showDialled(lab, sites, bg, t0);
  const status = await bg.stop();
  if (status.code !== 0) throw new Error(`branchgate exited with ${status.code}`);
  say("branchgate (IKEv2 initiator) stopped");
}

if (import.meta.main) {
  if (Deno.uid() !== 0) {
    console.error("demo: needs root (network namespaces, TUN device)");
    Deno.exit(2);
  }
  const lab = await Lab.create();
  let cleaning: Promise<void> | undefined;
  const cleanup = () => cleaning ??= lab.destroy();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, async () => {
      say(`${sig}: cleaning up`);
      await cleanup();
      Deno.exit(130);
    });
  }
  let code = 0;
  try {
    await demo(lab);
  } catch (err) {
    console.error(`demo FAILED: ${err instanceof Error ? err.message : String(err)}`);
    console.error(await lab.logs(40).catch(String));
    code = 1;
  } finally {
    await cleanup();
  }
  say(code === 0 ? "done; everything it created is removed" : "cleaned up after the failure");
  Deno.exit(code);
}
