/**
 * The control socket: a Unix stream socket (`<state-dir>/control.sock`, mode 0600, in a 0700
 * state dir, so only its owner, root on a router, can attach). Each connection is one shell
 * session (src/shell/session.ts) speaking the protocol of src/control/protocol.ts. A malformed
 * request ends that connection with an error reply; it never disturbs the daemon.
 * @module
 */

import { join } from "../path.ts";
import type { Logger } from "../log.ts";
import type { ShellHost } from "../shell/host.ts";
import { ShellSession } from "../shell/session.ts";
import {
  type ControlNotice,
  type ControlReply,
  encodeLine,
  LineSplitter,
  parseRequest,
} from "../control/protocol.ts";

/** The state dir when none is given. */
export const DEFAULT_STATE_DIR = "/var/lib/branchgate";

/** The socket's file name inside the state dir. */
export const CONTROL_SOCKET = "control.sock";

/** The control socket path for a state dir. */
export function controlSocketPath(stateDir: string): string {
  return join(stateDir, CONTROL_SOCKET);
}

/** What the server needs of the daemon. */
export interface ControlHost {
  /** The shell host (the gateway); read only after {@link ready}. */
  readonly host: ShellHost;
  /** Resolves when the daemon can serve sessions (requests wait for it). */
  readonly ready?: Promise<void>;
  /** Subscribes to notices; returns the unsubscribe. */
  onNotice(fn: (line: string) => void): () => void;
}

/** Why the control socket could not be opened. */
export class ControlSocketError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "ControlSocketError";
  }
}

/** True when something accepts connections on `path`. */
async function answers(path: string): Promise<boolean> {
  try {
    const c = await Deno.connect({ transport: "unix", path });
    c.close();
    return true;
  } catch {
    return false;
  }
}

/** A running control socket server. */
export class ControlServer {
  readonly #listener: Deno.Listener;
  readonly #path: string;
  readonly #conns = new Set<Deno.Conn>();
  readonly #done: Promise<void>;

  private constructor(listener: Deno.Listener, path: string, serve: (c: Deno.Conn) => void) {
    this.#listener = listener;
    this.#path = path;
    this.#done = (async () => {
      try {
        for await (const conn of listener) serve(conn);
      } catch {
        // listener closed
      }
    })();
  }

  /**
   * Listens on `<stateDir>/control.sock` (mode 0600). Refuses when another daemon answers on it;
   * removes a stale socket file left by a daemon that died.
   */
  static async open(stateDir: string, ctl: ControlHost, log: Logger): Promise<ControlServer> {
    const path = controlSocketPath(stateDir);
    let stat: Deno.FileInfo | undefined;
    try {
      stat = Deno.lstatSync(path);
    } catch {
      stat = undefined;
    }
    if (stat !== undefined) {
      if (await answers(path)) {
        throw new ControlSocketError(`another branchgate daemon is running on ${stateDir}`);
      }
      if (!stat.isSocket) throw new ControlSocketError(`${path} exists and is not a socket`);
      Deno.removeSync(path);
      log.warn("removed a stale control socket", { path });
    }
    let listener: Deno.Listener;
    try {
      listener = Deno.listen({ transport: "unix", path });
      Deno.chmodSync(path, 0o600);
    } catch (err) {
      throw new ControlSocketError(
        `cannot open ${path}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const server: ControlServer = new ControlServer(
      listener,
      path,
      (conn) => void server.#session(conn, ctl, log),
    );
    return server;
  }

  /** The socket path. */
  get path(): string {
    return this.#path;
  }

  async #session(conn: Deno.Conn, ctl: ControlHost, log: Logger): Promise<void> {
    this.#conns.add(conn);
    await ctl.ready;
    const session = new ShellSession(ctl.host, "shell");
    let writes: Promise<unknown> = Promise.resolve();
    const send = (msg: ControlReply | ControlNotice) => {
      const bytes = encodeLine(msg);
      writes = writes.then(() => writeAll(conn, bytes)).catch(() => undefined);
      return writes;
    };
    const unsubscribe = ctl.onNotice((notice) => void send({ notice }));
    const splitter = new LineSplitter();
    log.info("shell attached");
    try {
      for await (const chunk of conn.readable) {
        for (const line of splitter.push(chunk)) {
          const req = parseRequest(line);
          const reply = await this.#answer(session, req.op, req.line, req.id);
          await send(reply);
          if (reply.end) return;
        }
      }
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      log.warn("shell connection dropped", { reason });
      await send({ id: -1, output: [`error: ${reason}`], ok: false, end: true, prompt: "" });
    } finally {
      unsubscribe();
      await writes;
      this.#conns.delete(conn);
      try {
        conn.close();
      } catch {
        // already closed
      }
      log.info("shell detached");
    }
  }

  async #answer(session: ShellSession, op: string, line: string, id: number) {
    const base = { id, ok: true, end: false };
    switch (op) {
      case "exec": {
        const r = await session.execute(line);
        return { id, output: r.output, ok: r.ok, end: r.end, prompt: session.prompt() };
      }
      case "complete": {
        const c = session.complete(line);
        return { ...base, output: c.listing, insert: c.insert, prompt: session.prompt() };
      }
      case "help":
        return { ...base, output: session.help(line), prompt: session.prompt() };
      default:
        return { ...base, output: [], prompt: session.prompt() };
    }
  }

  /** Stops accepting, ends every session, removes the socket file. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
    await this.#done;
    try {
      Deno.removeSync(this.#path);
    } catch {
      // gone already
    }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}
