/**
 * The SAs of the I/O bench: branch 198.51.100.0/24 (behind the data path's TUN) to HQ
 * 203.0.113.0/24, ESP-in-UDP between 127.0.0.1:4500 (the data path) and 127.0.0.1:4501 (a sink
 * that never reads). Fixed test keys; no replay window, so the generator may resend its batch.
 */

import type { EspSaSpec, EspTransform } from "../../src/esp/sa_spec.ts";

/** Outbound and inbound SPIs. */
export const BENCH_SPI = { out: 0x0b0e0001, in: 0x0b0e0002 };

const net = (a: string, b: string) => ({
  startAddress: a,
  endAddress: b,
  protocol: 0,
  startPort: 0,
  endPort: 65535,
});

/** One of the two bench SAs, as the data path installs it. */
export function benchSpec(
  direction: "in" | "out",
  transform: EspTransform = { kind: "aead", alg: "aes128gcm16" },
): EspSaSpec {
  const keyLength = transform.kind === "aead" ? 20 : 48;
  return {
    spi: BENCH_SPI[direction],
    direction,
    peer: "bench",
    childId: "bench",
    transform,
    keyMaterial: Uint8Array.from({ length: keyLength }, (_, i) => i * 5 + 1),
    endpoints: {
      local: "127.0.0.1",
      remote: "127.0.0.1",
      encap: { localPort: 4500, remotePort: 4501 },
    },
    localSelectors: [net("198.51.100.0", "198.51.100.255")],
    remoteSelectors: [net("203.0.113.0", "203.0.113.255")],
    esn: false,
    replayWindow: 0,
    lifetime: { softSeconds: 0, hardSeconds: 0, softBytes: 0, hardBytes: 0 },
  };
}
