/**
 * A UDP relay for driving a sans-I/O test peer from the test process: run inside a lab
 * namespace (`ip netns exec NS deno run … udp_relay.ts SOCKET LOCAL_ADDR LOCAL_PORT`), it binds
 * the UDP port there and a Unix stream socket at SOCKET (file sockets cross namespaces). Each
 * frame from the test is `u16 port | u8 addr-length | addr | u16 length | datagram` (sent to that
 * address and port); each received datagram comes back in the same framing with its source.
 * One client at a time; exits when the client disconnects.
 * @module
 */

import dgram from "node:dgram";

/** Encodes one frame. */
export function frame(address: string, port: number, d: Uint8Array): Uint8Array {
  const a = new TextEncoder().encode(address);
  const out = new Uint8Array(5 + a.length + d.length);
  out[0] = port >> 8;
  out[1] = port & 0xff;
  out[2] = a.length;
  out.set(a, 3);
  out[3 + a.length] = d.length >> 8;
  out[4 + a.length] = d.length & 0xff;
  out.set(d, 5 + a.length);
  return out;
}

/** Splits complete frames off `buf`; returns them and the rest. */
export function unframe(
  buf: Uint8Array,
): { frames: { address: string; port: number; data: Uint8Array }[]; rest: Uint8Array } {
  const frames: { address: string; port: number; data: Uint8Array }[] = [];
  let o = 0;
  while (buf.length - o >= 3) {
    const al = buf[o + 2]!;
    if (buf.length - o < 5 + al) break;
    const len = buf[o + 3 + al]! << 8 | buf[o + 4 + al]!;
    if (buf.length - o < 5 + al + len) break;
    frames.push({
      port: buf[o]! << 8 | buf[o + 1]!,
      address: new TextDecoder().decode(buf.subarray(o + 3, o + 3 + al)),
      data: buf.slice(o + 5 + al, o + 5 + al + len),
    });
    o += 5 + al + len;
  }
  return { frames, rest: buf.slice(o) };
}

/** Yields the frames arriving on `conn` until it closes. */
export async function* readFrames(
  conn: Deno.Conn,
): AsyncGenerator<{ address: string; port: number; data: Uint8Array }> {
  let buf: Uint8Array = new Uint8Array(0);
  const chunk = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(chunk);
    if (n === null) return;
    const joined = new Uint8Array(buf.length + n);
    joined.set(buf);
    joined.set(chunk.subarray(0, n), buf.length);
    const { frames, rest } = unframe(joined);
    buf = rest;
    yield* frames;
  }
}

async function main(): Promise<void> {
  const [path, addr, port] = Deno.args;
  if (path === undefined || addr === undefined || port === undefined) {
    throw new Error("usage: udp_relay.ts SOCKET LOCAL_ADDR LOCAL_PORT");
  }
  const sock = dgram.createSocket("udp4");
  await new Promise<void>((res) => sock.bind(Number(port), addr, res));
  const listener = Deno.listen({ transport: "unix", path });
  const conn = await listener.accept();
  sock.on("message", (msg, rinfo) => {
    conn.write(frame(rinfo.address, rinfo.port, new Uint8Array(msg))).catch(() => {});
  });
  for await (const f of readFrames(conn)) sock.send(f.data, f.port, f.address);
  sock.close();
  listener.close();
}

if (import.meta.main) await main();
