/**
 * A certificate peer's policy for the pair tests: one peer with `auth = "pubkey"` trusting
 * `ca`, its certificate credentials loaded as the daemon does, on a fixed clock.
 */

import * as v from "valibot";
import { ConfigSchema } from "../../../src/config/schema.ts";
import type { IkePolicy } from "../../../src/ike/actions.ts";
import { MemoryCredentials } from "../../../src/ike/auth/credentials.ts";
import { PubkeyAuthenticator } from "../../../src/ike/auth/pubkey.ts";
import { loadPeerCredentials } from "../../../src/pki/store.ts";
import { NOW } from "../../unit/pki/fixture.ts";
import { BRANCH_IP, HUB_IP } from "./wire.ts";

/** The policy of one certificate peer listening on `listen`, with `c` as its own credentials. */
export function pubkeyPolicy(
  ca: { cert: string },
  peer: Record<string, unknown>,
  listen: string,
  c: { cert: string; key: string },
): IkePolicy {
  const config = v.parse(ConfigSchema, {
    gateway: { listen: [listen] },
    peer: [{ auth: "pubkey", cert: c.cert, key: c.key, ca: [ca.cert], ...peer }],
  });
  const p = config.peer[0]!;
  const auth = new PubkeyAuthenticator(loadPeerCredentials(p), p.remote_id, () => NOW);
  return { config, credentials: new MemoryCredentials(new Map(), new Map([[p.name, auth]])) };
}

/** The branch's certificate peer "hq" dialling the hub (IDs br/hub.example.net), with `over`. */
export function certBranchPeer(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "hq",
    remote: HUB_IP,
    start_action: "start",
    local_id: "br.example.net",
    remote_id: "hub.example.net",
    local_ts: ["10.2.0.0/16"],
    remote_ts: ["10.1.0.0/16"],
    ...over,
  };
}

/** The hub's certificate peer "branch1" for {@link certBranchPeer}, with `over`. */
export function certHubPeer(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "branch1",
    remote: BRANCH_IP,
    local_id: "hub.example.net",
    remote_id: "br.example.net",
    local_ts: ["10.1.0.0/16"],
    remote_ts: ["10.2.0.0/16"],
    ...over,
  };
}
