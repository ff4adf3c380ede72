/**
 * Junk-datagram flood for `make bench-memory` (run inside a lab namespace): sends COUNT random
 * datagrams of 60–200 bytes (seeded) from an ephemeral port to ADDRESS:PORT, as fast as the
 * socket takes them, then prints how many went out. Bounded in count; lab addresses only.
 *
 * Usage: `deno run --allow-all tests/bench/flood.ts ADDRESS PORT COUNT [SEED]`
 * @module
 */

import { pollReadable } from "../../hw/libc.ts";
import { openUdp } from "../../hw/udp.ts";

const [address, portText, countText, seedText] = Deno.args;
const to = (address ?? "").split(".").map(Number);
const port = Number(portText);
const count = Number(countText);
if (to.length !== 4 || to.some((b) => !(b >= 0 && b <= 255)) || !(port > 0) || !(count > 0)) {
  console.error("usage: flood.ts IPV4 PORT COUNT [SEED]");
  Deno.exit(2);
}
let seed = Number(seedText ?? 1) >>> 0 || 1;
const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
const sock = openUdp(new Uint8Array(4), 0, false);
const dst = new Uint8Array(to);
const pool = Array.from({ length: 64 }, () => {
  const d = new Uint8Array(60 + (next() % 141));
  for (let i = 0; i < d.length; i++) d[i] = next() >>> 24;
  return d;
});
let sent = 0;
const deadline = Date.now() + 120_000;
while (sent < count && Date.now() < deadline) {
  if (sock.sendTo(pool[sent % pool.length]!, dst, port)) sent++;
  else pollReadable([], 1); // send buffer full: let it drain
}
sock.close();
console.log(`sent ${sent}`);
