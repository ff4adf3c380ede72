/**
 * The two EspSaSpecs of a negotiated child SA, for either IKE version: outer endpoints
 * (UDP-encapsulated per RFC 3948 when NAT-T is in use or the peer asked for it), selectors,
 * keys, replay window and lifetimes (soft = hard − rekey_margin). IKEv1 Quick Mode
 * (v1/child_spec.ts) and IKEv2 CHILD_SA tasks (v2/child.ts) both build children here.
 * @module
 */

import { AEAD_KEY_LENGTH, CIPHER_KEY_LENGTH, MAC_PARAMS } from "../../crypto/params.ts";
import type { GatewayConfig, PeerConfig } from "../../config/schema.ts";
import type { EspTransform, SaLifetime, TrafficSelector } from "../../esp/sa_spec.ts";
import type { Endpoint } from "../actions.ts";
import type { NewChild } from "./child_sa.ts";

/** Everything a child pair is made of. */
export interface ChildParams {
  /** The peer's config. */
  readonly peer: PeerConfig;
  /** `[gateway]` (NAT-T port, default replay window). */
  readonly gateway: GatewayConfig;
  /** The IKE SA's key (opaque, e.g. the SPI pair in hex). */
  readonly ikeSa: string;
  /** Our IKE endpoint now in use. */
  readonly local: Endpoint;
  /** The peer's IKE endpoint now in use. */
  readonly remote: Endpoint;
  /** ESP in UDP (NAT detected, forced, or asked for by the transform). */
  readonly encap: boolean;
  /** The negotiated transform. */
  readonly transform: EspTransform;
  /** Its proposal-syntax name. */
  readonly transformName: string;
  /** PFS group, 0 without. */
  readonly pfsGroup: number;
  /** Extended sequence numbers. */
  readonly esn: boolean;
  /** Hard lifetime, seconds. */
  readonly seconds: number;
  /** Hard lifetime, bytes (0: none). */
  readonly bytes: number;
  /** Our SPI (inbound SA). */
  readonly inboundSpi: number;
  /** The peer's SPI (outbound SA). */
  readonly outboundSpi: number;
  /** Key material of the inbound SA (encryption key first, then integrity key). */
  readonly inboundKeys: Uint8Array;
  /** Key material of the outbound SA. */
  readonly outboundKeys: Uint8Array;
  /** Our selectors. */
  readonly localTs: readonly TrafficSelector[];
  /** The peer's selectors. */
  readonly remoteTs: readonly TrafficSelector[];
  /** Install time. */
  readonly now: number;
}

/** The child SA pair to install. */
export function buildChild(p: ChildParams): NewChild {
  const endpoints = {
    local: p.local.address,
    remote: p.remote.address,
    ...(p.encap
      ? {
        // RFC 3948 §2: ESP in UDP on the ports IKE floated to (4500 unless a NAT mapped them).
        encap: {
          localPort: p.local.port === p.gateway.ike_port ? p.gateway.natt_port : p.local.port,
          remotePort: p.remote.port === 500 ? 4500 : p.remote.port,
        },
      }
      : {}),
  };
  const margin = p.peer.rekey_margin;
  const base = {
    peer: p.peer.name,
    transform: p.transform,
    endpoints,
    localSelectors: [...p.localTs],
    remoteSelectors: [...p.remoteTs],
    esn: p.esn,
    lifetime: {
      softSeconds: margin > 0 && p.seconds > margin ? p.seconds - margin : 0,
      hardSeconds: p.seconds,
      softBytes: 0,
      hardBytes: p.bytes,
    },
  };
  return {
    peer: p.peer.name,
    ikeSa: p.ikeSa,
    transformName: p.transformName,
    pfsGroup: p.pfsGroup,
    installedAt: p.now,
    inbound: {
      ...base,
      spi: p.inboundSpi,
      direction: "in",
      keyMaterial: p.inboundKeys,
      replayWindow: p.peer.replay_window ?? p.gateway.replay_window,
    },
    outbound: {
      ...base,
      spi: p.outboundSpi,
      direction: "out",
      keyMaterial: p.outboundKeys,
      replayWindow: 0,
    },
  };
}

/**
 * Bytes of key material an SA with `t` needs (the `keyMaterial` of its EspSaSpec): AEAD key
 * and 4-octet salt (RFC 4106 §8.1, RFC 7634 §4), or cipher key then integrity key (RFC 7296
 * §2.17 takes the encryption key first as well).
 */
export function keyMaterialLength(t: EspTransform): number {
  return t.kind === "aead"
    ? AEAD_KEY_LENGTH[t.alg] + 4
    : CIPHER_KEY_LENGTH[t.cipher] + MAC_PARAMS[t.mac].keyLength;
}

/**
 * A lifetime whose soft seconds come earlier by up to a quarter of `margin`, chosen by
 * `randomByte` (0..255), so two sides with the same policy rarely start the same rekey at once
 * (RFC 7296 §2.8.1: rekey requests SHOULD be jittered). Without a soft lifetime, or with a
 * jitter as long as it, the lifetime is returned unchanged.
 */
export function jitterSoft(life: SaLifetime, margin: number, randomByte: number): SaLifetime {
  const jitter = Math.floor(((randomByte / 256) * margin) / 4);
  return life.softSeconds > jitter ? { ...life, softSeconds: life.softSeconds - jitter } : life;
}
