/**
 * Structured logging: one logfmt line per event (`ts=… level=… comp=… msg="…" key=value`), written
 * to stderr and, when asked, to syslog; the newest lines are kept in a ring for `show log`.
 *
 * Secrets never reach a sink: fields whose names look secret (psk, secret, password, key
 * material, private keys) are masked, byte arrays are shown only by length, and every string
 * registered with {@link Logger.addSecret} is masked wherever it appears in a line.
 * @module
 */

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** The levels in order, for validation and completion. */
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Field values a log line can carry. */
export type LogValue = string | number | bigint | boolean | null | undefined | Uint8Array | Error;

/** Extra key/value pairs of one event. */
export type LogFields = Readonly<Record<string, LogValue>>;

/** Where finished lines go. */
export interface LogSink {
  /** Writes one finished line (no trailing newline) of `level`. Must not throw. */
  write(level: LogLevel, line: string): void;
  /** Flushes and releases the sink. */
  close(): Promise<void>;
}

/** What replaces a secret in a line. */
export const MASK = "****";

const SECRET_FIELD = /(psk|secret|passw|private|key_?material|^key$|_key$|^keys?$)/i;

function quote(s: string): string {
  return /^[A-Za-z0-9_.:/@%+,\-]+$/.test(s) ? s : JSON.stringify(s);
}

function render(key: string, value: LogValue): string {
  if (SECRET_FIELD.test(key)) return MASK;
  if (value instanceof Uint8Array) return `<${value.length}B>`;
  if (value instanceof Error) return quote(value.message);
  if (value === null || value === undefined) return "-";
  return quote(String(value));
}

/** The shared state of a logger and its children. */
class LogCore {
  level: LogLevel;
  readonly sinks: LogSink[];
  readonly ring: (string | undefined)[];
  next = 0;
  count = 0;
  readonly secrets = new Set<string>();

  constructor(level: LogLevel, sinks: LogSink[], ringSize: number) {
    this.level = level;
    this.sinks = sinks;
    this.ring = new Array<string | undefined>(Math.max(1, ringSize));
  }
}

/** Options for {@link Logger.create}. */
export interface LoggerOptions {
  /** Lowest level that is written (default "info"). */
  readonly level?: LogLevel;
  /** Sinks (default: none; lines still reach the ring). */
  readonly sinks?: LogSink[];
  /** How many lines `show log` can go back (default 1000). */
  readonly ringSize?: number;
  /** Clock, for tests (default `Date.now`). */
  readonly now?: () => number;
}

/** A structured logger; {@link child} loggers share level, sinks, ring and secrets. */
export class Logger {
  readonly #core: LogCore;
  readonly #component: string;
  readonly #now: () => number;

  private constructor(core: LogCore, component: string, now: () => number) {
    this.#core = core;
    this.#component = component;
    this.#now = now;
  }

  /** A new root logger. */
  static create(opts: LoggerOptions = {}): Logger {
    const core = new LogCore(opts.level ?? "info", opts.sinks ?? [], opts.ringSize ?? 1000);
    return new Logger(core, "main", opts.now ?? Date.now);
  }

  /** A logger for one component (shown as `comp=`), sharing everything else. */
  child(component: string): Logger {
    return new Logger(this.#core, component, this.#now);
  }

  /** The current level. */
  get level(): LogLevel {
    return this.#core.level;
  }

  /** Changes the level for this logger and every relative. */
  setLevel(level: LogLevel): void {
    this.#core.level = level;
  }

  /** Adds a sink (e.g. syslog once the config asks for it). */
  addSink(sink: LogSink): void {
    this.#core.sinks.push(sink);
  }

  /** Removes and closes a sink added before. */
  async removeSink(sink: LogSink): Promise<void> {
    const i = this.#core.sinks.indexOf(sink);
    if (i >= 0) this.#core.sinks.splice(i, 1);
    await sink.close();
  }

  /** Registers a secret string (a PSK); it is masked wherever it would appear. Ignores "". */
  addSecret(secret: string): void {
    if (secret.length > 0) this.#core.secrets.add(secret);
  }

  /** Logs at debug. */
  debug(msg: string, fields: LogFields = {}): void {
    this.log("debug", msg, fields);
  }

  /** Logs at info. */
  info(msg: string, fields: LogFields = {}): void {
    this.log("info", msg, fields);
  }

  /** Logs at warn. */
  warn(msg: string, fields: LogFields = {}): void {
    this.log("warn", msg, fields);
  }

  /** Logs at error. */
  error(msg: string, fields: LogFields = {}): void {
    this.log("error", msg, fields);
  }

  /** Logs one event at `level` if the level lets it through. */
  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    const core = this.#core;
    if (RANK[level] < RANK[core.level]) return;
    const parts = [
      `ts=${new Date(this.#now()).toISOString()}`,
      `level=${level}`,
      `comp=${quote(this.#component)}`,
      `msg=${JSON.stringify(msg)}`,
    ];
    for (const [k, v] of Object.entries(fields)) {
      if (/^[A-Za-z0-9_.]+$/.test(k)) parts.push(`${k}=${render(k, v)}`);
    }
    let line = parts.join(" ");
    for (const s of core.secrets) {
      if (line.includes(s)) line = line.split(s).join(MASK);
      const quoted = JSON.stringify(s).slice(1, -1);
      if (quoted !== s && line.includes(quoted)) line = line.split(quoted).join(MASK);
    }
    core.ring[core.next] = line;
    core.next = (core.next + 1) % core.ring.length;
    core.count = Math.min(core.count + 1, core.ring.length);
    for (const sink of core.sinks) sink.write(level, line);
  }

  /** The newest `n` lines kept in the ring, oldest first. */
  recent(n: number): string[] {
    const core = this.#core;
    const take = Math.max(0, Math.min(Math.floor(n), core.count));
    const out: string[] = [];
    for (let i = take; i > 0; i--) {
      const idx = (core.next - i + core.ring.length) % core.ring.length;
      const line = core.ring[idx];
      if (line !== undefined) out.push(line);
    }
    return out;
  }

  /** Closes every sink. */
  async close(): Promise<void> {
    const sinks = this.#core.sinks.splice(0);
    for (const s of sinks) await s.close();
  }
}

const encoder = new TextEncoder();

function writeAll(w: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
}

/**
 * A sink writing lines to stderr. Lines of one event-loop task (an IKE exchange logs several)
 * go out in one write, at the end of the task (a microtask); warnings and errors are written at
 * once with whatever is pending before them, and pending lines are written when the process
 * exits (`unload`), so no line is lost or reordered.
 */
export function stderrSink(): LogSink {
  let pending = "";
  const flush = () => {
    if (pending === "") return;
    const text = pending;
    pending = "";
    try {
      writeAll(Deno.stderr, encoder.encode(text));
    } catch {
      // stderr closed: nothing sensible left to do with a log line
    }
  };
  globalThis.addEventListener("unload", flush);
  return {
    write(level, line) {
      const first = pending === "";
      pending += line + "\n";
      if (level === "warn" || level === "error") flush();
      else if (first) queueMicrotask(flush);
    },
    close() {
      flush();
      globalThis.removeEventListener("unload", flush);
      return Promise.resolve();
    },
  };
}

/** syslog severities (RFC 5424 §6.2.1) per level. */
const SEVERITY: Record<LogLevel, number> = { debug: 7, info: 6, warn: 4, error: 3 };
/** Facility "daemon" (RFC 5424 §6.2.1). */
const FACILITY_DAEMON = 3;

/** Lines handed to the system logger and not yet taken by it, at most (then lines drop). */
export const SYSLOG_MAX_PENDING = 256;

/** A syslog sink with its drop counter. */
export interface SyslogSink extends LogSink {
  /** Lines dropped because the logger process did not keep up (or went away). */
  readonly dropped: () => number;
}

/**
 * A sink handing each line to the system logger through `logger --prio-prefix`, which reads
 * `<PRI>message` lines on its stdin (facility daemon, severity per level). Never queues without
 * bound: while {@link SYSLOG_MAX_PENDING} lines wait for a slow logger, further lines are
 * dropped and counted, and one line saying how many went missing follows when it catches up.
 * `command` replaces `logger` (tests).
 */
export function syslogSink(
  tag = "branchgate",
  command: readonly string[] = ["logger", "--prio-prefix", "-t", tag],
): SyslogSink {
  const child = new Deno.Command(command[0]!, {
    args: command.slice(1),
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  let broken = false;
  let pending = 0;
  let dropped = 0;
  let unreported = 0;
  const send = (level: LogLevel, line: string) => {
    pending++;
    const pri = FACILITY_DAEMON * 8 + SEVERITY[level];
    writer.write(encoder.encode(`<${pri}>${line}\n`)).then(
      () => void pending--,
      () => {
        pending--;
        broken = true;
      },
    );
  };
  return {
    write(level, line) {
      if (broken || pending >= SYSLOG_MAX_PENDING) {
        dropped++;
        unreported++;
        return;
      }
      if (unreported > 0) {
        send("warn", `level=warn comp=log msg="syslog too slow: ${unreported} lines dropped"`);
        unreported = 0;
      }
      send(level, line);
    },
    dropped: () => dropped,
    async close() {
      try {
        await writer.close();
      } catch {
        // the logger process already went away
      }
      await child.status;
    },
  };
}

/** True when `s` is one of the levels. */
export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}
