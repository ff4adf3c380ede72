/**
 * A recording {@link QmHost} for Quick Mode exchange tests: actions and events are kept in
 * order; "sending" a Quick Mode message returns its plaintext chain (the encryption layer is
 * Phase 1's), Informational payloads are recorded as sent.
 */

import * as v from "valibot";
import { getCrypto } from "../../../src/crypto/registry.ts";
import { ConfigSchema, type PeerConfig } from "../../../src/config/schema.ts";
import type { IkeAction } from "../../../src/ike/actions.ts";
import { encodeV1Chain } from "../../../src/ike/message/v1/mod.ts";
import type {
  DeletePayloadV1,
  NotifyPayloadV1,
  PayloadV1,
} from "../../../src/ike/message/v1/mod.ts";
import type { QmHost, QmIkeSa } from "../../../src/ike/v1/quick_mode.ts";
import type { LogFields, LogLevel } from "../../../src/log.ts";

/** A peer config with defaults, overridden by `over`. */
export function peerConfig(over: Record<string, unknown> = {}): PeerConfig {
  const c = v.parse(ConfigSchema, {
    peer: [{
      name: "branch1",
      remote: "192.0.2.2",
      psk: "not-used-here",
      local_ts: ["10.1.0.0/16"],
      remote_ts: ["10.2.0.0/16"],
      ...over,
    }],
  });
  return c.peer[0]!;
}

/** An established IKE SA stand-in with random SKEYID_d/a. */
export function ikeSa(peer: PeerConfig, over: Partial<QmIkeSa> = {}): QmIkeSa {
  const r = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  return {
    key: "0102030405060708:1112131415161718",
    peer,
    prf: "hmac-sha256",
    skeyidD: r(32),
    skeyidA: r(32),
    local: { address: "192.0.2.1", port: 500 },
    remote: { address: "192.0.2.2", port: 500 },
    natt: false,
    ...over,
  };
}

/** What the host saw, in order. */
export type Seen =
  | { readonly what: "action"; readonly action: IkeAction }
  | {
    readonly what: "event";
    readonly level: LogLevel;
    readonly message: string;
    fields: LogFields;
  }
  | {
    readonly what: "qm";
    readonly messageId: number;
    readonly first: number;
    readonly bytes: Uint8Array;
    readonly flags: number;
  }
  | {
    readonly what: "info";
    readonly payload: NotifyPayloadV1 | DeletePayloadV1;
    readonly messageId?: number;
  };

/** The recording host. */
export class RecordingHost implements QmHost {
  readonly crypto = getCrypto();
  readonly gateway = v.parse(ConfigSchema, {}).gateway;
  readonly seen: Seen[] = [];
  /** IKE SAs `liveIkeSa` reports, by peer. */
  readonly live = new Map<string, QmIkeSa>();

  emit(action: IkeAction): void {
    this.seen.push({ what: "action", action });
  }
  event(level: LogLevel, _peer: string, message: string, fields: LogFields = {}): void {
    this.seen.push({ what: "event", level, message, fields });
  }
  sendQuickMode(
    _sa: QmIkeSa,
    messageId: number,
    payloads: readonly PayloadV1[],
    flags: number,
  ): Uint8Array {
    const enc = encodeV1Chain(payloads);
    this.seen.push({ what: "qm", messageId, first: enc.firstType, bytes: enc.bytes, flags });
    return enc.bytes;
  }
  sendInformational(
    _sa: QmIkeSa,
    payload: NotifyPayloadV1 | DeletePayloadV1,
    messageId?: number,
  ): void {
    this.seen.push({
      what: "info",
      payload,
      ...(messageId === undefined ? {} : { messageId }),
    });
  }
  liveIkeSa(peer: string): QmIkeSa | undefined {
    return this.live.get(peer);
  }

  /** Everything seen since the last call. */
  take(): Seen[] {
    return this.seen.splice(0);
  }
}
