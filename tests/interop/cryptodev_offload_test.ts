/**
 * Root: the branchgate daemon forced onto the fake /dev/crypto (`crypto_offload = "cryptodev"`,
 * BRANCHGATE_CRYPTODEV_LIB = tests/fakes/cryptodev) against strongSwan in the IKEv1 lab:
 * ping and iperf3 through an AES-GCM-16 and an AES-CBC + HMAC-SHA-256 CHILD_SA, the fake's
 * counters showing full-size ESP operations done on the device, `show crypto` naming the
 * device; then the device fails mid-stream during a ping train and iperf3: the SA stays, traffic
 * carries on through libcrypto, and the device gets no further operation.
 */

import assert from "node:assert/strict";
import { assertAgreement } from "./lib/agree.ts";
import { BranchgateResponder } from "./lib/branchgate_responder.ts";
import { startIkev1Lab } from "./lib/ikev1_lab.ts";
import { withLab } from "./lib/netns.ts";
import { pingBothWays } from "./lib/scenarios/main_mode.ts";
import { iperfTcp, startPingTrain } from "./lib/traffic.ts";
import { waitFor } from "./lib/wait.ts";
import { FakeDevice } from "../fakes/cryptodev/fake.ts";

Deno.test({
  name: "ESP on the fake /dev/crypto (forced) against strongSwan; a failing device falls back",
  ignore: Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: (t) =>
    withLab(async (lab) => {
      const dev = new FakeDevice(`${lab.dir}/fake-crypto`);
      let bg: BranchgateResponder | undefined;
      const L = await startIkev1Lab(lab, async (l, setup) =>
        bg = await BranchgateResponder.start(l, setup, {
          config: { cryptoOffload: "cryptodev", cryptoDevice: dev.path },
          env: dev.env(),
        }));
      const daemon = bg!.daemon;
      const a = { ns: L.sites.a.host, address: L.sites.a.hostAddress };
      const b = { ns: L.sites.b.host, address: L.sites.b.hostAddress };
      let ok = true;

      ok &&= await t.step("show crypto: the device serves every ESP algorithm", async () => {
        const text = await daemon.show("crypto");
        assert.match(text, /crypto offload: cryptodev, device .*fake-cryptodev-openssl/);
        assert.match(text, /aead:aes128gcm16 +pass .*cryptodev \(all sizes\)/);
        assert.match(text, /mac:hmac-sha256-128 +pass .*cryptodev \(all sizes\)/);
        await daemon.waitForLog(/crypto offload.*offloaded.*aead:aes128gcm16/);
      });

      for (
        const [conn, child, ike, transform, enc, dec] of [
          ["hq-ecp", "ecp", "aes128-sha1-ecp256", "aes128gcm16", "aeadEncrypt", "aeadDecrypt"],
          [
            "hq-modp",
            "modp",
            "aes256-sha256-modp2048",
            "aes128-sha256",
            "cbcEncrypt",
            "cbcDecrypt",
          ],
        ] as const
      ) {
        ok &&= await t.step(`${transform}: ping and iperf3 run on the device`, async () => {
          const before = dev.snapshot();
          await L.initiator.initiate(child);
          await assertAgreement(L.initiator, L.responder, {
            connection: conn,
            peer: "hq",
            ike,
            children: { [child]: { transform } },
          });
          await pingBothWays(L);
          const up = await iperfTcp(lab, a, b, 2);
          const down = await iperfTcp(lab, a, b, 2, true);
          assert.ok(up.bps > 2e6 && down.bps > 2e6, `${up.bps} / ${down.bps} bit/s`);
          const mbit = (x: number) =>
            (x / 1e6).toFixed(0);
          console.log(
            `${transform} on the fake device: ${mbit(up.bps)} / ${mbit(down.bps)} Mbit/s`,
          );
          const after = dev.snapshot();
          const d = (w: keyof typeof after) =>
            after[w] - before[w];
          // Both directions of bulk TCP: thousands of full-size packets sealed and opened.
          assert.ok(d(enc) > 1000 && d(dec) > 1000, JSON.stringify(after));
          assert.ok(d("fullSize") > 2000, `full-size operations: ${d("fullSize")}`);
          assert.ok(after.maxLength >= 1300, `largest operation ${after.maxLength} bytes`);
          if (enc === "cbcEncrypt") {
            assert.ok(d("mac") > 2000);
          }
          assert.equal(after.failed, 0);
          // show crypto reports the data path's device operations (from its Worker).
          const alg = transform === "aes128gcm16" ? "aead:aes128gcm16" : "cipher:aes128cbc";
          const line = (await daemon.show("crypto")).split("\n").find((l) =>
            l.trim().startsWith(alg) && l.includes("device ") && l.includes("libcrypto ")
          );
          assert.match(line ?? "", /device [1-9][0-9]{3,}, libcrypto 0$/);
          await L.initiator.terminate({ ike: conn });
          await waitFor(
            async () => (await L.responder.espSas()).length === 0 ? true : undefined,
            { what: "ESP SAs gone", timeoutMs: 20_000 },
          );
        });
      }

      ok &&= await t.step(
        "the device fails mid-stream: same SA, traffic on libcrypto",
        async () => {
          await L.initiator.initiate("ecp");
          await assertAgreement(L.initiator, L.responder, {
            connection: "hq-ecp",
            peer: "hq",
            ike: "aes128-sha1-ecp256",
            children: { ecp: { transform: "aes128gcm16" } },
          });
          const spis = (await L.responder.espSas()).map((s) => s.spi).sort();
          const train = startPingTrain(lab, a.ns, b.address, "fail", {
            from: a.address,
            interval: 0.05,
          });
          await waitFor(() => dev.get("aeadEncrypt") > 20 ? true : undefined, {
            what: "the ping train on the device",
          });
          dev.set("fail", 1); // every device operation now fails (after scribbling its output)
          await waitFor(() => dev.get("failed") > 0 ? true : undefined, { what: "a failure" });
          const run = await iperfTcp(lab, a, b, 2);
          assert.ok(run.bps > 2e6, `${run.bps} bit/s after the device failed`);
          const ops = dev.get("ops");
          const p = await train.finish();
          assert.ok(
            p.sent > 20 && p.sent - p.received <= 2,
            p.output.split("\n").slice(-3).join(" "),
          );
          await pingBothWays(L);
          assert.equal(dev.get("ops"), ops, "the failed device got no more operations");
          assert.deepEqual((await L.responder.espSas()).map((s) => s.spi).sort(), spis);
          assert.match(
            await daemon.show("crypto"),
            /aead:aes128gcm16 +device \d+, libcrypto [1-9]\d* \(device dropped: .*errno 5/,
          );
        },
      );
      ok &&= await t.step("auto with a slowed device: ESP stays on libcrypto", async () => {
        dev.set("fail", 0);
        dev.set("delayNs", 200_000); // 200 µs per operation
        const starts = async () => (await daemon.log()).split("IKE and ESP started").length;
        const before = await starts();
        const out = await daemon.shell([
          "configure",
          "set gateway crypto_offload auto",
          "commit",
          "exit",
        ]);
        assert.match(out, /crypto_offload/);
        // The data path restarts and calibrates against the slow device.
        await waitFor(async () => await starts() > before ? true : undefined, {
          what: "the data path restarted",
          timeoutMs: 30_000,
        });
        await L.initiator.terminate({ ike: "hq-ecp" }).catch(() => undefined);
        await waitFor(
          async () => (await L.responder.espSas()).length === 0 ? true : undefined,
          { what: "the old SAs gone", timeoutMs: 20_000 },
        );
        await L.initiator.initiate("ecp");
        await assertAgreement(L.initiator, L.responder, {
          connection: "hq-ecp",
          peer: "hq",
          ike: "aes128-sha1-ecp256",
          children: { ecp: { transform: "aes128gcm16" } },
        });
        const ops = dev.get("ops");
        await pingBothWays(L);
        const run = await iperfTcp(lab, a, b, 2);
        assert.ok(run.bps > 2e6, `${run.bps} bit/s`);
        assert.equal(dev.get("ops"), ops, "no ESP operation went to the slow device");
        assert.match(await daemon.show("crypto"), /data path \(ESP\): nothing on \/dev\/crypto/);
      });
      if (!ok) throw new Error("a step failed");
    }),
});
