/**
 * Two full IKEv2-capable engines on a {@link Wire} for the pair tests: seeded SPIs and nonces,
 * the process crypto, and per side the engine options a test wants (COOKIE threshold, largest
 * datagram before RFC 7383 fragmentation).
 */

import { getCrypto } from "../../../src/crypto/registry.ts";
import type { IkePolicy } from "../../../src/ike/actions.ts";
import { createIkeEngine } from "../../../src/ike/engine.ts";
import type { V2Deps } from "../../../src/ike/v2/engine.ts";
import { seededBytes, seededRng } from "../initiator_v2/harness.ts";
import { Wire } from "./wire.ts";

/** IKEv2 engine options of one side. */
export type SideDeps = Pick<V2Deps, "cookieThreshold" | "maxDatagram">;

/**
 * The branch and hub engines of `branch`/`hub`, seeded from `seed`: a name (a logged,
 * repeatable seed) or a test's own generator.
 */
export function v2Pair(
  seed: string | (() => number),
  branch: IkePolicy,
  hub: IkePolicy,
  deps: { readonly branch?: SideDeps; readonly hub?: SideDeps } = {},
): Wire {
  const next = typeof seed === "string" ? seededRng(seed).next : seed;
  const random = seededBytes(next);
  const r = getCrypto();
  const crypto = {
    aead: r.aead.bind(r),
    cipher: r.cipher.bind(r),
    mac: r.mac.bind(r),
    prf: r.prf.bind(r),
    hash: r.hash.bind(r),
    dh: r.dh.bind(r),
    randomBytes: random,
  };
  return new Wire(
    branch,
    hub,
    (p, side) => createIkeEngine(p, { random, v2: { crypto, ...deps[side] } }),
  );
}
