import assert from "node:assert/strict";
import {
  Logger,
  type LogLevel,
  type LogSink,
  MASK,
  SYSLOG_MAX_PENDING,
  syslogSink,
} from "../../../src/log.ts";

function capture(): { sink: LogSink; lines: [LogLevel, string][] } {
  const lines: [LogLevel, string][] = [];
  return {
    lines,
    sink: { write: (level, line) => lines.push([level, line]), close: () => Promise.resolve() },
  };
}

Deno.test("log lines are logfmt with time, level, component and fields", () => {
  const { sink, lines } = capture();
  const log = Logger.create({ sinks: [sink], now: () => 0 }).child("ike");
  log.info("sa established", { peer: "hq", spi: "0x1234", n: 3, note: "two words" });
  assert.equal(
    lines[0]?.[1],
    'ts=1970-01-01T00:00:00.000Z level=info comp=ike msg="sa established" peer=hq spi=0x1234 n=3 note="two words"',
  );
});

Deno.test("levels below the threshold are dropped; setLevel applies to children", () => {
  const { sink, lines } = capture();
  const root = Logger.create({ sinks: [sink], level: "warn" });
  const child = root.child("x");
  child.info("quiet");
  child.warn("loud");
  root.setLevel("debug");
  child.debug("now visible");
  assert.deepEqual(lines.map(([l]) => l), ["warn", "debug"]);
});

Deno.test("secrets never reach a sink: secret-named fields, byte arrays, registered strings", () => {
  const { sink, lines } = capture();
  const log = Logger.create({ sinks: [sink] });
  log.addSecret("hunter2-but-longer");
  log.info("peer loaded", {
    psk: "plain-psk-value",
    keyMaterial: new Uint8Array([1, 2, 3]),
    raw: new Uint8Array(32),
    detail: "the key is hunter2-but-longer, see",
  });
  log.error('bad "hunter2-but-longer" quoted', {});
  const all = lines.map(([, l]) => l).join("\n");
  assert.ok(!all.includes("plain-psk-value"));
  assert.ok(!all.includes("hunter2-but-longer"));
  assert.ok(all.includes(`psk=${MASK}`));
  assert.ok(all.includes("raw=<32B>"));
  assert.ok(all.includes(MASK));
});

Deno.test("the ring keeps the newest lines for show log", () => {
  const log = Logger.create({ ringSize: 3 });
  for (let i = 0; i < 5; i++) log.info(`event ${i}`);
  const recent = log.recent(10);
  assert.equal(recent.length, 3);
  assert.ok(recent[0]?.includes("event 2"));
  assert.ok(recent[2]?.includes("event 4"));
  assert.equal(log.recent(1).length, 1);
  assert.ok(log.recent(1)[0]?.includes("event 4"));
  assert.deepEqual(log.recent(0), []);
  assert.deepEqual(log.recent(-5), []);
});

Deno.test("the syslog sink never queues more than SYSLOG_MAX_PENDING lines for a stalled logger", async () => {
  const out = await Deno.makeTempFile();
  // A logger that reads nothing for a while, then everything: the pipe fills, lines queue.
  const sink = syslogSink("t", ["sh", "-c", `sleep 1; cat > ${out}`]);
  const line = "x".repeat(200);
  const N = 5_000; // 1 MB: far beyond a 64 KiB pipe
  for (let i = 0; i < N; i++) sink.write("info", `${line} ${i}`);
  assert.ok(sink.dropped() >= N - SYSLOG_MAX_PENDING - 400, `dropped ${sink.dropped()}`);
  // Once the logger reads, the queue drains and the next line says how many went missing.
  const deadline = Date.now() + 20_000;
  let text = "";
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    sink.write("info", "after the stall");
    text = await Deno.readTextFile(out);
    if (text.includes("lines dropped")) break;
  }
  await sink.close();
  text = await Deno.readTextFile(out);
  await Deno.remove(out);
  assert.match(text, /syslog too slow: \d+ lines dropped/);
  assert.match(text, /after the stall/);
});

Deno.test("the stderr sink writes a task's lines at its end, a warning at once, and every pending line on exit", async () => {
  const logMod = new URL("../../../src/log.ts", import.meta.url).href;
  // One task logs two info lines, then a warning: all three in order. The next task logs an
  // info line and exits at once: it is written anyway.
  const script = `
    import { Logger, stderrSink } from "${logMod}";
    const log = Logger.create({ sinks: [stderrSink()], now: () => 0 });
    log.info("one");
    log.info("two");
    Deno.stderr.writeSync(new TextEncoder().encode("marker\\n"));
    log.warn("three");
    setTimeout(() => {
      log.info("four");
      Deno.exit(3);
    }, 0);
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-lock", script],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 3);
  const lines = new TextDecoder().decode(out.stderr).trim().split("\n");
  assert.deepEqual(lines.map((l) => l.match(/msg="([a-z]+)"/)?.[1] ?? l), [
    "marker",
    "one",
    "two",
    "three",
    "four",
  ]);
});
