/**
 * SA specs and packets shared by the SA database tests: a branch (198.51.100.0/24) and a head
 * office (203.0.113.0/24) subnet, an AEAD spec per SPI and direction, a UDP packet with ESP
 * headroom and tailroom.
 */

import { MAX_ESP_HEADER, MAX_ESP_TRAILER } from "../../../src/esp/sad.ts";
import type { EspSaSpec } from "../../../src/esp/sa_spec.ts";
import { rangeSelector } from "../../fakes/esp_peer.ts";
import { udp4 } from "../../fakes/packets.ts";

/** A selector over an address range, any protocol and port. */
export const subnet = rangeSelector;
/** The branch subnet. */
export const BRANCH = subnet("198.51.100.0", "198.51.100.255");
/** The head office subnet. */
export const HQ = subnet("203.0.113.0", "203.0.113.255");
/** No lifetime limits. */
export const NO_LIMITS = { softSeconds: 0, hardSeconds: 0, softBytes: 0, hardBytes: 0 };

/** An AEAD SA spec (branch → head office when outbound), with `over` applied. */
export function spec(
  spi: number,
  direction: "in" | "out",
  over: Partial<EspSaSpec> = {},
): EspSaSpec {
  return {
    spi,
    direction,
    peer: "hq",
    childId: `child-${spi}`,
    transform: { kind: "aead", alg: "aes128gcm16" },
    keyMaterial: Uint8Array.from({ length: 20 }, (_, i) => (spi + i) & 0xff),
    endpoints: { local: "192.0.2.1", remote: "192.0.2.2" },
    localSelectors: direction === "out" ? [BRANCH] : [HQ],
    remoteSelectors: direction === "out" ? [HQ] : [BRANCH],
    esn: false,
    replayWindow: 64,
    lifetime: NO_LIMITS,
    ...over,
  };
}

/** A UDP/IPv4 packet placed after ESP headroom in a buffer with tailroom. */
export function packet(src: string, dst: string, payload = 32): { buf: Uint8Array; len: number } {
  const p = udp4(src, dst, { payload });
  const buf = new Uint8Array(MAX_ESP_HEADER + p.length + MAX_ESP_TRAILER);
  buf.set(p, MAX_ESP_HEADER);
  return { buf, len: p.length };
}
