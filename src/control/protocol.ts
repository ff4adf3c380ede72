/**
 * The control socket protocol (`<state-dir>/control.sock`): one JSON object per line, UTF-8,
 * each line at most {@link MAX_LINE} bytes. The client sends requests with an `id`; the daemon
 * answers each request once, in order, with the same `id`, and may send notices (no `id`) at any
 * time (e.g. an automatic rollback). Every connection is one shell session on the daemon side.
 * @module
 */

/** Longest line either side accepts, in bytes. */
export const MAX_LINE = 64 * 1024;

/** What a request asks. */
export type ControlOp = "hello" | "exec" | "complete" | "help";

/** A request from the shell client. */
export interface ControlRequest {
  /** Echoed in the reply. */
  readonly id: number;
  /** hello: the prompt; exec: run `line`; complete: Tab on `line`; help: `?` on `line`. */
  readonly op: ControlOp;
  /** The command line (left of the cursor for complete/help). */
  readonly line: string;
}

/** The daemon's answer to one request. */
export interface ControlReply {
  /** The request's id. */
  readonly id: number;
  /** Lines to print (exec output, the completion listing or the help). */
  readonly output: readonly string[];
  /** False when the command failed. */
  readonly ok: boolean;
  /** True when the session ended. */
  readonly end: boolean;
  /** The prompt after this request. */
  readonly prompt: string;
  /** complete: the text to insert at the cursor. */
  readonly insert?: string;
}

/** A notice the daemon pushes unasked. */
export interface ControlNotice {
  /** The line. */
  readonly notice: string;
}

/** A malformed message. */
export class ControlProtocolError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "ControlProtocolError";
  }
}

const OPS: readonly string[] = ["hello", "exec", "complete", "help"];

function parseObject(line: string): Record<string, unknown> {
  let j: unknown;
  try {
    j = JSON.parse(line);
  } catch {
    throw new ControlProtocolError("not JSON");
  }
  if (j === null || typeof j !== "object" || Array.isArray(j)) {
    throw new ControlProtocolError("not a JSON object");
  }
  return j as Record<string, unknown>;
}

/** Parses a request line; throws {@link ControlProtocolError} when it is not one. */
export function parseRequest(line: string): ControlRequest {
  const j = parseObject(line);
  const { id, op, line: text } = j;
  if (typeof id !== "number" || !Number.isSafeInteger(id)) {
    throw new ControlProtocolError("id must be an integer");
  }
  if (typeof op !== "string" || !OPS.includes(op)) {
    throw new ControlProtocolError(`op must be one of ${OPS.join(", ")}`);
  }
  if (typeof text !== "string") throw new ControlProtocolError("line must be a string");
  return { id, op: op as ControlOp, line: text };
}

function stringList(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    throw new ControlProtocolError(`${what} must be a list of strings`);
  }
  return v as string[];
}

/** Parses a line from the daemon: a reply or a notice. */
export function parseServerLine(line: string): ControlReply | ControlNotice {
  const j = parseObject(line);
  if (typeof j["notice"] === "string") return { notice: j["notice"] };
  const { id, ok, end, prompt, insert } = j;
  if (typeof id !== "number") throw new ControlProtocolError("reply without id");
  if (typeof ok !== "boolean" || typeof end !== "boolean" || typeof prompt !== "string") {
    throw new ControlProtocolError("reply without ok/end/prompt");
  }
  const output = stringList(j["output"], "output");
  if (insert !== undefined && typeof insert !== "string") {
    throw new ControlProtocolError("insert must be a string");
  }
  return { id, output, ok, end, prompt, ...(insert !== undefined ? { insert } : {}) };
}

/**
 * Splits a byte stream into lines. {@link push} returns the complete lines; a line longer than
 * {@link MAX_LINE} throws {@link ControlProtocolError}.
 */
export class LineSplitter {
  #buf = new Uint8Array(0);
  readonly #dec = new TextDecoder("utf-8", { fatal: false });

  /** Adds bytes; returns the finished lines (without newlines). */
  push(chunk: Uint8Array): string[] {
    const merged = new Uint8Array(this.#buf.length + chunk.length);
    merged.set(this.#buf);
    merged.set(chunk, this.#buf.length);
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < merged.length; i++) {
      if (merged[i] !== 0x0a) continue;
      if (i - start > MAX_LINE) throw new ControlProtocolError("line too long");
      out.push(this.#dec.decode(merged.subarray(start, i)));
      start = i + 1;
    }
    this.#buf = merged.slice(start);
    if (this.#buf.length > MAX_LINE) throw new ControlProtocolError("line too long");
    return out;
  }
}

/** Encodes one message as a line. */
export function encodeLine(msg: ControlRequest | ControlReply | ControlNotice): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(msg) + "\n");
}
