/**
 * The test side of {@link ./udp_relay.ts}: starts the relay in a lab namespace and gives the
 * test `send` and `recv` of raw UDP datagrams as if it sat on that namespace's address.
 * @module
 */

import type { Lab, LabProcess } from "./netns.ts";
import { frame, readFrames } from "./udp_relay.ts";
import { waitFor } from "./wait.ts";

const RELAY = new URL("./udp_relay.ts", import.meta.url).pathname;

/** One received datagram. */
export interface Datagram {
  /** Source address. */
  readonly address: string;
  /** Source port. */
  readonly port: number;
  /** Bytes. */
  readonly data: Uint8Array;
}

/** A UDP endpoint inside a lab namespace, driven from the test process. */
export class UdpLink {
  readonly #conn: Deno.UnixConn;
  readonly #proc: LabProcess;
  readonly #queue: Datagram[] = [];
  #waiter: (() => void) | undefined;
  #closed = false;

  private constructor(conn: Deno.UnixConn, proc: LabProcess) {
    this.#conn = conn;
    this.#proc = proc;
    void this.#pump();
  }

  /** Starts the relay in `ns`, bound to `address`:`port`, and connects to it. */
  static async open(lab: Lab, ns: string, address: string, port: number): Promise<UdpLink> {
    const path = `${lab.dir}/udp-${ns.slice(-6)}-${port}.sock`;
    const proc = lab.spawn(ns, [
      Deno.execPath(),
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      RELAY,
      path,
      address,
      String(port),
    ], { logPath: `${lab.dir}/udp-relay.log` });
    const conn = await waitFor(async () => {
      if (proc.exited()) throw new Error("UDP relay exited; see udp-relay.log");
      try {
        return await Deno.connect({ transport: "unix", path });
      } catch {
        return undefined;
      }
    }, { timeoutMs: 30_000, what: "UDP relay socket" });
    return new UdpLink(conn, proc);
  }

  async #pump(): Promise<void> {
    try {
      for await (const f of readFrames(this.#conn)) {
        this.#queue.push(f);
        this.#waiter?.();
      }
    } catch {
      // closed
    }
    this.#closed = true;
    this.#waiter?.();
  }

  /** Sends datagrams to `address`:`port`. */
  async send(address: string, port: number, ds: readonly Uint8Array[]): Promise<void> {
    for (const d of ds) await this.#conn.write(frame(address, port, d));
  }

  /** The next received datagram, or undefined after `timeoutMs`. */
  async recv(timeoutMs: number): Promise<Datagram | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length === 0 && !this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.#waiter = () => {
          clearTimeout(t);
          res();
        };
      });
      this.#waiter = undefined;
    }
    return this.#queue.shift();
  }

  /** Drops queued datagrams. */
  drain(): Datagram[] {
    return this.#queue.splice(0);
  }

  /** Closes the link and stops the relay. */
  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    await this.#proc.stop(2000);
  }
}
