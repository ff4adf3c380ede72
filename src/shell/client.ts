/**
 * The client side of the control socket (src/control/protocol.ts): requests answered in
 * order, notices handed to a callback. A dropped connection fails every pending request.
 * @module
 */

import {
  type ControlOp,
  type ControlReply,
  encodeLine,
  LineSplitter,
  parseServerLine,
} from "../control/protocol.ts";

/** The daemon could not be reached, or the connection broke. */
export class ControlClientError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "ControlClientError";
  }
}

/** A connection to the daemon's control socket. */
export class ControlClient {
  readonly #conn: Deno.UnixConn;
  readonly #pending = new Map<number, { ok(r: ControlReply): void; fail(e: Error): void }>();
  #nextId = 1;
  #noticeCb: (line: string) => void = () => {};
  #closed: Error | undefined;

  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
    void this.#readLoop();
  }

  /** Connects to the socket at `path`. */
  static async connect(path: string): Promise<ControlClient> {
    try {
      return new ControlClient(await Deno.connect({ transport: "unix", path }));
    } catch (err) {
      const why = err instanceof Deno.errors.NotFound
        ? "no control socket"
        : err instanceof Deno.errors.PermissionDenied
        ? "permission denied (the control socket is root-only)"
        : err instanceof Error
        ? err.message
        : String(err);
      throw new ControlClientError(`cannot reach the daemon at ${path}: ${why}`);
    }
  }

  /** Registers the notice handler. */
  onNotice(cb: (line: string) => void): void {
    this.#noticeCb = cb;
  }

  async #readLoop(): Promise<void> {
    const splitter = new LineSplitter();
    let why = "the daemon closed the connection";
    try {
      for await (const chunk of this.#conn.readable) {
        for (const line of splitter.push(chunk)) {
          const msg = parseServerLine(line);
          if ("notice" in msg) {
            this.#noticeCb(msg.notice);
            continue;
          }
          const p = this.#pending.get(msg.id);
          this.#pending.delete(msg.id);
          if (p !== undefined) p.ok(msg);
          else if (msg.end) why = msg.output.join("; ") || why;
        }
      }
    } catch (err) {
      why = err instanceof Error ? err.message : String(err);
    }
    this.#closed = new ControlClientError(why);
    for (const p of this.#pending.values()) p.fail(this.#closed);
    this.#pending.clear();
  }

  /** Sends one request and waits for its reply. */
  async request(op: ControlOp, line: string): Promise<ControlReply> {
    if (this.#closed !== undefined) throw this.#closed;
    const id = this.#nextId++;
    const reply = new Promise<ControlReply>((ok, fail) => this.#pending.set(id, { ok, fail }));
    const bytes = encodeLine({ id, op, line });
    try {
      let off = 0;
      while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
    } catch (err) {
      this.#pending.delete(id);
      throw new ControlClientError(err instanceof Error ? err.message : String(err));
    }
    return await reply;
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}
