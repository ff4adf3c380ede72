/** The strongSwan capture in tests/vectors/ike/strongswan_capture.json, loaded for tests. */

import { unhex } from "./helpers.ts";

/** One captured datagram (non-ESP marker removed). */
export interface Captured {
  /** charon's description of it. */
  readonly name: string;
  /** Sender address:port. */
  readonly from: string;
  /** Receiver address:port. */
  readonly to: string;
  /** The IKE message. */
  readonly bytes: Uint8Array;
}

/** All captured datagrams in order. */
export function loadCapture(): Captured[] {
  const url = new URL("../../../vectors/ike/strongswan_capture.json", import.meta.url);
  const doc = JSON.parse(Deno.readTextFileSync(url)) as {
    messages: { name: string; from: string; to: string; hex: string }[];
  };
  return doc.messages.map((m) => ({ name: m.name, from: m.from, to: m.to, bytes: unhex(m.hex) }));
}
