/**
 * The IKE sockets on UDP port 500 (low rate, so `node:dgram` on the main thread). The responder
 * needs the address each datagram was sent to (NAT-D hashes, RFC 3947 §3.2), which a wildcard
 * socket does not report, so a wildcard listen address ("0.0.0.0", "::") binds one socket per
 * address of that family the host has at start-up.
 * @module
 */

import dgram from "node:dgram";
import type { Endpoint } from "../ike/actions.ts";
import type { IkeSender } from "./ike_driver.ts";

/** Called for each datagram received on a port-500 socket. */
export type DatagramHandler = (data: Uint8Array, local: Endpoint, remote: Endpoint) => void;

/** Why the IKE sockets could not be opened. */
export class IkeSocketError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "IkeSocketError";
  }
}

/** The addresses to bind for `listen` (wildcards expanded to the host's addresses). */
export function bindAddresses(
  listen: readonly string[],
  interfaces: readonly { address: string; family: string; scopeid?: number | null }[],
): string[] {
  const out = new Set<string>();
  for (const a of listen) {
    if (a === "0.0.0.0") {
      for (const i of interfaces) if (i.family === "IPv4") out.add(i.address);
    } else if (a === "::") {
      for (const i of interfaces) {
        if (i.family === "IPv6" && !i.address.toLowerCase().startsWith("fe80")) out.add(i.address);
      }
    } else {
      out.add(a);
    }
  }
  return [...out];
}

/** Open port-500 sockets. */
export class IkeSockets implements IkeSender {
  readonly #socks = new Map<string, dgram.Socket>();
  readonly #port: number;

  private constructor(port: number) {
    this.#port = port;
  }

  /**
   * Binds one socket per address on `port` and hands every datagram to `onDatagram`. Rejects
   * with an {@link IkeSocketError} naming the address (port in use, no such address, no
   * permission) after closing what was opened.
   */
  static async open(
    addresses: readonly string[],
    port: number,
    onDatagram: DatagramHandler,
  ): Promise<IkeSockets> {
    const s = new IkeSockets(port);
    if (addresses.length === 0) throw new IkeSocketError("no address to listen on for IKE");
    try {
      for (const address of addresses) {
        const sock = dgram.createSocket({ type: address.includes(":") ? "udp6" : "udp4" });
        await new Promise<void>((resolve, reject) => {
          sock.once("error", reject);
          sock.bind({ address, port, exclusive: true }, () => {
            sock.off("error", reject);
            resolve();
          });
        }).catch((err) => {
          try {
            sock.close();
          } catch {
            // never bound
          }
          const why = err instanceof Error ? err.message : String(err);
          throw new IkeSocketError(`cannot listen for IKE on ${address} port ${port}: ${why}`);
        });
        const local: Endpoint = { address, port };
        sock.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
          const data = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength).slice();
          onDatagram(data, local, { address: rinfo.address, port: rinfo.port });
        });
        // A send failure (unreachable, no route) must not end the process: counted by the caller.
        sock.on("error", () => {});
        s.#socks.set(address, sock);
      }
    } catch (err) {
      s.close();
      throw err;
    }
    return s;
  }

  /** The bound local endpoints. */
  endpoints(): Endpoint[] {
    return [...this.#socks.keys()].map((address) => ({ address, port: this.#port }));
  }

  /** {@inheritDoc IkeSender.send} */
  send(datagram: Uint8Array, local: Endpoint, remote: Endpoint): boolean {
    const sock = this.#socks.get(local.address);
    if (sock === undefined) return false;
    sock.send(datagram, remote.port, remote.address);
    return true;
  }

  /** Closes every socket. */
  close(): void {
    for (const s of this.#socks.values()) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
    this.#socks.clear();
  }
}
