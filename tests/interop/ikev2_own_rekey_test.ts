/**
 * Root: branchgate rekeys by itself (RFC 7296 §1.3.2, §1.3.3, §2.8) with strongSwan 5.9.8,
 * whichever side made the IKE SA. (1) strongSwan initiates with long lifetimes (it never
 * rekeys here); branchgate's peer has esp_lifetime 60 s, ike_lifetime 90 s and rekey_margin
 * 45 s, so branchgate rekeys the CHILD_SA (again and again) and the IKE SA under a ping train,
 * then under iperf3. (2) branchgate dials strongSwan (start_action = start) with the same short
 * lifetimes and rekeys both kinds of SA as their original initiator. After each rekey both
 * sides agree SPI for SPI (`swanctl --list-sas` against `show ike sa` / `show esp sa`), the
 * replaced SAs are gone on both sides, and only pings in flight at a rekey may be lost.
 */

import assert from "node:assert/strict";
import { type Agreement, assertAgreement, initiatorIke, waitEspGone } from "./lib/agree.ts";
import { BranchgateDaemon } from "./lib/branchgate.ts";
import { BranchgateResponder } from "./lib/branchgate_responder.ts";
import type { Ikev1Lab } from "./lib/ikev1_lab.ts";
import { INITIATOR, PEER, PSK_V2, v2Connections, v2Peers } from "./lib/ikev2_lab.ts";
import { type Lab, withLab } from "./lib/netns.ts";
import { StrongswanPeer } from "./lib/strongswan.ts";
import type { Responder } from "./lib/responder.ts";
import { parseShowEspSa, parseShowIkeSa } from "./lib/show_parse.ts";
import { twoSites } from "./lib/topology.ts";
import { iperfTcp, startPingTrain } from "./lib/traffic.ts";
import { waitFor } from "./lib/wait.ts";

const IKE = "aes128gcm16-prfsha256-ecp256";

async function start(lab: Lab): Promise<Ikev1Lab> {
  const sites = await twoSites(lab);
  const peer = {
    ...v2Peers()[0]!,
    espLifetime: 60,
    ikeLifetime: 90,
    rekeyMargin: 45,
  };
  // strongSwan: IKE SA never rekeyed (rekey_time 0), CHILD_SA after an hour.
  const gcm = v2Connections().find((c) => c.name === "gcm")!;
  const conn = {
    ...gcm,
    children: gcm.children.map((c) => ({ ...c, rekeyTime: 3600, lifeTime: 4000 })),
  };
  const [responder, initiator] = await Promise.all([
    BranchgateResponder.start(lab, {
      ns: sites.a.gw,
      address: sites.a.outerAddress,
      peers: [peer],
    }),
    StrongswanPeer.start(lab, {
      name: "init",
      ns: sites.b.gw,
      config: {
        connections: [conn],
        secrets: [{ name: "v2", ids: [INITIATOR, "192.0.2.1"], secret: PSK_V2 }],
      },
      charon: { logLevels: { ike: 2, cfg: 2 } },
    }),
  ]);
  return { lab, sites, responder, initiator };
}

/** The number of log lines of branchgate matching `re`. */
async function count(L: Ikev1Lab, re: RegExp): Promise<number> {
  return (await L.responder.log()).split("\n").filter((l) => re.test(l)).length;
}

/**
 * `check` again when it fails (up to 4 times): a CHILD_SA rekey every 4..15 s may fall between
 * reading one side's table and the other's.
 */
async function settled<T>(check: () => Promise<T>): Promise<T> {
  for (let i = 1;; i++) {
    try {
      return await check();
    } catch (e) {
      if (i >= 4) throw e;
    }
  }
}

/** Both sides agree on the connection's IKE SA and its one CHILD_SA. */
function agree(L: Ikev1Lab): Promise<Agreement> {
  return settled(() =>
    assertAgreement(L.initiator, L.responder, {
      connection: "gcm",
      peer: PEER,
      version: 2,
      ike: IKE,
      children: { gcm: { transform: "aes128gcm16" } },
    })
  );
}

/** Waits until strongSwan's installed gcm CHILD_SA has an inbound SPI other than `old`. */
async function childOtherThan(L: Ikev1Lab, old: number, timeoutMs: number): Promise<void> {
  await L.initiator.waitForSas(
    (sas) =>
      sas.flatMap((s) => s.children).some((c) =>
        c.name === "gcm" && c.state === "INSTALLED" && c.spiIn !== old
      ) || undefined,
    { timeoutMs, what: "a CHILD_SA rekeyed by branchgate" },
  );
}

Deno.test({
  name: "IKEv2: branchgate (responder) rekeys the CHILD_SA and the IKE SA itself under traffic",
  ignore: Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withLab(async (lab) => {
      const L = await start(lab);
      try {
        await L.initiator.initiate("gcm");
        const first = await agree(L);
        const old = first.children.get("gcm")!;
        const train = startPingTrain(lab, L.sites.a.host, L.sites.b.hostAddress, "ownrekey", {
          interval: 0.02,
          from: L.sites.a.hostAddress,
        });
        let pings;
        try {
          // CHILD_SA: soft lifetime 15 s minus up to 11 s of jitter.
          await childOtherThan(L, old.spiIn, 30_000);
          await L.responder.waitForLog(/"CHILD_SA rekeyed".*initiated=true/, { timeoutMs: 5000 });
          // Make-before-break: the old pair leaves both sides once our Delete is answered.
          await waitEspGone(L.responder, [old.spiIn, old.spiOut]);
          await waitFor(async () => {
            const sa = await initiatorIke(L.initiator, "gcm");
            const ids = sa?.children.map((c) => c.spiIn) ?? [];
            return ids.includes(old.spiIn) ? undefined : true;
          }, { what: "strongSwan drops the replaced CHILD_SA", timeoutMs: 10_000 });
          const second = await agree(L);
          assert.notEqual(second.children.get("gcm")!.spiIn, old.spiIn);
          // IKE SA: due 45 s after it was made, minus up to 11 s.
          await waitFor(async () => {
            const sa = await initiatorIke(L.initiator, "gcm");
            return sa !== undefined && sa.initiatorSpi !== first.ike.initiatorSpi &&
                sa.children.some((c) => c.state === "INSTALLED")
              ? true
              : undefined;
          }, { what: "a new IKE SA (made by branchgate) holding the CHILD_SA", timeoutMs: 60_000 });
          await L.responder.waitForLog(/IKE SA rekeyed \(by us\)/, { timeoutMs: 5000 });
          await new Promise((r) => setTimeout(r, 1000));
        } finally {
          pings = await train.finish();
        }
        const third = await agree(L);
        assert.notEqual(third.ike.initiatorSpi, first.ike.initiatorSpi, "new IKE SA");
        // The old IKE SA is gone on both sides (our Delete, §1.3.2).
        await waitFor(async () => {
          const all = await L.responder.ikeSas();
          return all.some((x) => x.initiatorSpi === first.ike.initiatorSpi) ? undefined : true;
        }, { what: "old IKE SA deleted at branchgate", timeoutMs: 10_000 });
        await waitFor(async () => {
          const sas = await L.initiator.listSas();
          return sas.some((s) => s.initiatorSpi === first.ike.initiatorSpi) ? undefined : true;
        }, { what: "old IKE SA deleted at strongSwan", timeoutMs: 10_000 });
        const rekeys = await count(
          L,
          /"CHILD_SA rekeyed".*initiated=true|IKE SA rekeyed \(by us\)/,
        );
        assert.ok(rekeys >= 2, `${rekeys} rekeys by branchgate`);
        assert.ok(pings.sent > 500, pings.output.slice(-300));
        const lost = pings.sent - pings.received;
        // At 50 pings/s with a few ms of round trip, at most the one in flight per rekey.
        assert.ok(
          lost <= rekeys,
          `${lost} of ${pings.sent} pings lost across ${rekeys} rekeys by branchgate`,
        );
        // iperf3 across further CHILD_SA rekeys (one every 4..15 s).
        const before = await count(L, /"CHILD_SA rekeyed".*initiated=true/);
        const run = await iperfTcp(
          lab,
          { ns: L.sites.a.host, address: L.sites.a.hostAddress },
          { ns: L.sites.b.host, address: L.sites.b.hostAddress },
          20,
        );
        const during = (await count(L, /"CHILD_SA rekeyed".*initiated=true/)) - before;
        assert.ok(during >= 1, `a CHILD_SA rekey during iperf3 (${during})`);
        assert.ok(run.bps > 1e6, `iperf3 ${(run.bps / 1e6).toFixed(1)} Mbit/s across rekeys`);
        await agree(L);
        console.log(
          `own rekeys: ${rekeys} under ping (${lost}/${pings.sent} lost), ` +
            `${during} under iperf3 at ${(run.bps / 1e6).toFixed(1)} Mbit/s`,
        );
      } catch (e) {
        console.log((await L.responder.log()).split("\n").slice(-80).join("\n"));
        throw e;
      }
    }),
});

/** A branchgate daemon seen through the suite's {@link Responder} view. */
function view(bg: BranchgateDaemon): Responder {
  return {
    kind: "branchgate",
    ikeSas: async () => parseShowIkeSa(await bg.show("ike sa")),
    espSas: async () => parseShowEspSa(await bg.show("esp sa")),
    log: () => bg.log(),
    waitForLog: (re, o) => bg.waitForLog(re, o),
  };
}

Deno.test({
  name: "IKEv2: branchgate (initiator) rekeys the CHILD_SA and the IKE SA it dialled",
  ignore: Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withLab(async (lab) => {
      const s = await twoSites(lab);
      const { a, b } = s;
      const psk = "interop-own-rekey-initiator-01";
      const swan = await StrongswanPeer.start(lab, {
        name: "hub",
        ns: b.gw,
        config: {
          connections: [{
            name: "branch",
            version: 2,
            localAddrs: [b.outerAddress],
            remoteAddrs: [a.outerAddress],
            proposals: [IKE],
            encap: true,
            rekeyTime: 0,
            dpdDelay: 0,
            children: [{
              name: "net",
              localTs: [b.lan],
              remoteTs: [a.lan],
              espProposals: ["aes128gcm16"],
              rekeyTime: 3600,
              lifeTime: 4000,
            }],
          }],
          secrets: [{ name: "branch", ids: [a.outerAddress, b.outerAddress], secret: psk }],
        },
      });
      const bg = await BranchgateDaemon.start(lab, {
        name: "branch",
        ns: a.gw,
        config: {
          listen: [a.outerAddress],
          logLevel: "info",
          peers: [{
            name: "hq",
            remote: b.outerAddress,
            psk,
            ikeVersion: 2,
            startAction: "start",
            ikeProposals: [IKE],
            espProposals: ["aes128gcm16"],
            localTs: [a.lan],
            remoteTs: [b.lan],
            encap: true,
            dpdDelay: 0,
            espLifetime: 60,
            ikeLifetime: 90,
            rekeyMargin: 45,
          }],
        },
      });
      const L: Ikev1Lab = { lab, sites: s, responder: view(bg), initiator: swan };
      const agreeHq = () =>
        settled(() =>
          assertAgreement(swan, L.responder, {
            connection: "branch",
            peer: "hq",
            version: 2,
            ike: IKE,
            children: { net: { transform: "aes128gcm16" } },
          })
        );
      try {
        const first = await waitFor(async () => {
          try {
            return await agreeHq();
          } catch {
            return undefined;
          }
        }, { what: "branchgate dialled strongSwan", timeoutMs: 40_000, intervalMs: 500 });
        const old = first.children.get("net")!;
        const train = startPingTrain(lab, a.host, b.hostAddress, "ownrekey-init", {
          interval: 0.02,
          from: a.hostAddress,
        });
        let pings;
        try {
          await swan.waitForSas(
            (sas) =>
              sas.flatMap((x) => x.children).some((c) =>
                c.name === "net" && c.state === "INSTALLED" && c.spiIn !== old.spiIn
              ) || undefined,
            { timeoutMs: 30_000, what: "a CHILD_SA rekeyed by branchgate" },
          );
          await waitEspGone(L.responder, [old.spiIn, old.spiOut]);
          await waitFor(async () => {
            const sa = await initiatorIke(swan, "branch");
            return sa !== undefined && sa.initiatorSpi !== first.ike.initiatorSpi &&
                sa.children.some((c) => c.state === "INSTALLED")
              ? true
              : undefined;
          }, { what: "a new IKE SA holding the CHILD_SA", timeoutMs: 60_000 });
          await new Promise((r) => setTimeout(r, 1000));
        } finally {
          pings = await train.finish();
        }
        const after = await agreeHq();
        assert.notEqual(after.ike.initiatorSpi, first.ike.initiatorSpi);
        await waitFor(async () => {
          const sas = await swan.listSas();
          return sas.length === 1 ? true : undefined;
        }, { what: "strongSwan holds only the new IKE SA", timeoutMs: 10_000 });
        const rekeys = (await bg.log()).split("\n").filter((l) =>
          /"CHILD_SA rekeyed".*initiated=true|IKE SA rekeyed \(by us\)/.test(l)
        ).length;
        const lost = pings.sent - pings.received;
        assert.ok(pings.sent > 500, pings.output.slice(-300));
        assert.ok(lost <= rekeys, `${lost} of ${pings.sent} pings lost across ${rekeys} rekeys`);
        const dials = (await bg.log()).split("\n").filter((l) =>
          l.includes("initiating IKEv2")
        );
        assert.equal(dials.length, 1, "rekeys, not re-dials");
        console.log(`as initiator: ${rekeys} own rekeys, ${lost}/${pings.sent} pings lost`);
      } catch (e) {
        console.log((await bg.log()).split("\n").slice(-80).join("\n"));
        throw e;
      }
    }),
});
