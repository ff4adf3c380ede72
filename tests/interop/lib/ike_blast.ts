/**
 * Hostile IKE traffic for the root tests (run inside a lab namespace): sends COUNT datagrams
 * from FROM (an address of that namespace) to TO:PORT with sendmmsg, 64 per call. On the
 * NAT-T port (4500) IKE-shaped datagrams carry the Non-ESP Marker (RFC 3948 §2.2).
 * - `flood`: a seeded mix of junk, Main/Aggressive Mode message 1 with fresh cookies and a
 *   broken SA payload, encrypted messages with unknown cookies, IKEv2 headers, ESP-looking
 *   junk;
 * - `forged CKY_I CKY_R`: Informational and Quick Mode messages with the given (real) cookies,
 *   the encryption flag, random message IDs and a random body (what an attacker who saw the
 *   cookies in clear can send).
 * Prints `{"sent":N}`. Lab (TEST-NET) addresses only.
 *
 * Usage: `deno run --allow-all ike_blast.ts FROM TO PORT COUNT flood|forged [CKY_I CKY_R]`
 * @module
 */

import { PollSet } from "../../../hw/libc.ts";
import { openUdp } from "../../../hw/udp.ts";
import { PacketBatch } from "../../../src/esp/batch.ts";
import { parseIp } from "../../../src/net/addr.ts";

const [fromText, toText, portText, countText, kind, ckyIText, ckyRText] = Deno.args;
const from = parseIp(fromText ?? "");
const to = parseIp(toText ?? "");
const port = Number(portText);
const count = Number(countText);
const hex = (s: string | undefined) =>
  s !== undefined && /^[0-9a-f]{16}$/.test(s)
    ? Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)))
    : undefined;
const ckyI = hex(ckyIText);
const ckyR = hex(ckyRText);
if (
  from?.length !== 4 || to?.length !== 4 || !(port > 0) || !(count > 0) ||
  (kind !== "flood" && kind !== "forged") || (kind === "forged" && (!ckyI || !ckyR))
) {
  console.error("usage: ike_blast.ts FROM TO PORT COUNT flood|forged [CKY_I CKY_R]");
  Deno.exit(2);
}

let seed = 0x2545f491;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
const marker = port === 500 ? 0 : 4;

/** An ISAKMP header (RFC 2408 §3.1) at `at` of `d`; the length is the rest of `d`. */
function header(d: Uint8Array, at: number, exch: number, next: number, flags: number, v = 0x10) {
  const dv = new DataView(d.buffer, d.byteOffset);
  d[at + 16] = next;
  d[at + 17] = v;
  d[at + 18] = exch;
  d[at + 19] = flags;
  dv.setUint32(at + 20, rnd());
  dv.setUint32(at + 24, d.length - at);
}

function randomFill(d: Uint8Array, from: number): void {
  for (let i = from; i < d.length; i++) d[i] = rnd() & 0xff;
}

/** One datagram of the flood mix. */
function floodDatagram(n: number): Uint8Array {
  const shape = n % 5;
  if (shape === 0) {
    const d = new Uint8Array(60 + (rnd() % 141));
    randomFill(d, 0);
    if (marker === 4 && d[0] === 0) d[0] = 1; // ESP-looking on 4500 (not the marker)
    return d;
  }
  const body = 40 + (rnd() % 120);
  const d = new Uint8Array(marker + 28 + body);
  randomFill(d, marker);
  const at = marker;
  if (shape === 1 || shape === 3) {
    d.fill(0, at + 8, at + 16); // no responder cookie: message 1
    header(d, at, shape === 1 ? 2 : 4, 1, 0);
    d.fill(0, at + 20, at + 24);
    const dv = new DataView(d.buffer);
    dv.setUint16(at + 30, body); // SA payload length: the whole body
    dv.setUint32(at + 32, 1); // DOI IPsec
    dv.setUint32(at + 36, 1); // SIT_IDENTITY_ONLY
    d[at + 28] = 0;
  } else if (shape === 2) {
    header(d, at, rnd() % 2 === 0 ? 5 : 32, 8, 1);
  } else {
    header(d, at, 34, 33, 0x08, 0x20); // IKEv2 IKE_SA_INIT
  }
  return d;
}

/** One forged encrypted Informational / Quick Mode with the real cookies. */
function forgedDatagram(n: number): Uint8Array {
  const d = new Uint8Array(marker + 28 + 16 * (4 + (rnd() % 4)));
  randomFill(d, marker + 16);
  d.set(ckyI!, marker);
  d.set(ckyR!, marker + 8);
  header(d, marker, n % 2 === 0 ? 5 : 32, 8, 1);
  return d;
}

const BATCH = 64;
const batch = new PacketBatch(BATCH, 2048);
const sock = openUdp(from, 0, false);
const poll = new PollSet([]);
let sent = 0;
let made = 0;
const deadline = Date.now() + 300_000;
while (sent < count && Date.now() < deadline) {
  const n = Math.min(BATCH, count - sent);
  for (let i = 0; i < n; i++) {
    const d = kind === "flood" ? floodDatagram(made) : forgedDatagram(made);
    made++;
    const at = i * batch.slotSize + 32;
    batch.data.set(d, at);
    batch.start[i] = at;
    batch.length[i] = d.length;
    batch.tag[i] = 0;
    batch.family[i] = 4;
    batch.address.set(to, i * 16);
    batch.port[i] = port;
  }
  const r = sock.sendBatch(batch, 0, n);
  sent += r.sent;
  if (r.sent < n) {
    made -= n - r.sent;
    poll.wait(1); // the send queue is full: let it drain
  }
}
sock.close();
console.log(JSON.stringify({ sent }));
