/**
 * The daemon's certificate loading (src/daemon/pubkey_credentials.ts): relative paths from the
 * config directory, a peer whose files do not load reported with the reason, the 30-day
 * expiry warning at the injected clock, and the `show pki` table (days to expiry, no key).
 */

import assert from "node:assert/strict";
import * as v from "valibot";
import { ConfigSchema } from "../../../src/config/schema.ts";
import {
  loadPubkeys,
  pkiViews,
  pubkeyExpiryWarnings,
} from "../../../src/daemon/pubkey_credentials.ts";
import { pkiTable } from "../../../src/shell/views.ts";
import { DAY, issue, makeCa, NOW } from "./fixture.ts";

const base = await Deno.makeTempDir({ prefix: "bg-pki-daemon-" });
const ca = await makeCa(base, "ca", undefined, { notAfter: new Date(NOW.getTime() + 400 * DAY) });
const soon = await issue(base, "soon", ca, {
  subject: "/CN=soon.example.net",
  notAfter: new Date(NOW.getTime() + 10 * DAY + 3600_000),
});

const peer = (name: string, key: string) => ({
  name,
  remote: "%any",
  auth: "pubkey",
  cert: "soon.crt", // relative: taken from the config directory
  key,
  ca: ["ca.crt"],
  local_ts: ["10.0.0.0/16"],
  remote_ts: ["10.1.0.0/16"],
});

Deno.test("loads relative paths, warns 30 days ahead, show pki lists days left", () => {
  const config = v.parse(ConfigSchema, {
    peer: [peer("good", "soon.key"), peer("broken", "missing.key")],
  });
  const l = loadPubkeys(config, base, () => NOW);
  assert.deepEqual([...l.authenticators.keys()], ["good"]);
  assert.match(l.errors.get("broken")!, /missing\.key/);
  const w = pubkeyExpiryWarnings(l, NOW);
  assert.equal(w.length, 1);
  assert.match(w[0]!.line, /certificate "CN=soon.example.net" \(.*soon\.crt\) expires in 10 days/);
  assert.equal(pubkeyExpiryWarnings(l, new Date(NOW.getTime() - 30 * DAY)).length, 0);
  const rows = pkiTable(pkiViews(l, NOW));
  assert.equal(rows.length, 3, rows.join("\n")); // header + local + anchor
  assert.match(rows.join("\n"), /good +local +CN=soon.example.net .* 10 /);
  assert.match(rows.join("\n"), /good +anchor +C=CH, O=branchgate test, CN=ca .* 400 /);
  const key = Deno.readTextFileSync(soon.key).split("\n")[1]!;
  assert.ok(!rows.join("\n").includes(key));
  assert.deepEqual(pkiTable([]), ["no certificates loaded (no peer uses auth pubkey)"]);
});

globalThis.addEventListener("unload", () => Deno.removeSync(base, { recursive: true }));
