/**
 * The line editor on its own: editing keys, history, Tab and `?` through the hooks, CR LF as one
 * Enter, ^D and ^C, `?` inside quotes taken literally, long lines scrolled within 80 columns.
 */

import assert from "node:assert/strict";
import { type EditorInput, LineEditor } from "../../../src/shell/line_editor.ts";
import { Screen } from "./screen.ts";

function rig() {
  const screen = new Screen();
  const asked: string[] = [];
  const ed = new LineEditor((t) => screen.write(t), {
    complete: (line) => {
      asked.push(`tab:${line}`);
      return Promise.resolve(
        line === "sh"
          ? { insert: "ow ", listing: [] }
          : { insert: "", listing: ["  ike", "  esp"] },
      );
    },
    help: (line) => {
      asked.push(`help:${line}`);
      return Promise.resolve(["  peers    configured peers"]);
    },
  });
  ed.prompt("bg> ");
  const feed = async (s: string): Promise<EditorInput[]> => {
    const out: EditorInput[] = [];
    for await (const i of ed.feed(new TextEncoder().encode(s))) out.push(i);
    return out;
  };
  return { screen, asked, ed, feed };
}

Deno.test("typing, cursor keys, deletes and CR LF give the edited line once", async () => {
  const { screen, feed } = rig();
  assert.deepEqual(await feed("shw\x1b[Do\x1b[F peers\r\n"), [{ line: "show peers" }]);
  assert.deepEqual(await feed("abc\x01\x1b[3~X\x05\x7f\x08Y\r"), [{ line: "XY" }]);
  assert.deepEqual(await feed("one two\x17three\r"), [{ line: "one three" }]);
  assert.deepEqual(await feed("junk\x15ok\r"), [{ line: "ok" }]);
  assert.match(screen.text(), /^bg> show peers$/m);
});

Deno.test("history walks back and forward and keeps the line being typed", async () => {
  const { ed, feed } = rig();
  await feed("first\rsecond\r");
  await feed("dra");
  await feed("\x1b[A");
  assert.equal(ed.line, "second");
  await feed("\x10");
  assert.equal(ed.line, "first");
  await feed("\x1b[B\x0e");
  assert.equal(ed.line, "dra");
});

Deno.test("Tab inserts or lists; ? shows help without inserting; ? in quotes is text", async () => {
  const { screen, asked, ed, feed } = rig();
  await feed("sh\t");
  assert.equal(ed.line, "show ");
  await feed("\t");
  assert.match(screen.text(), /^ {2}ike\n {2}esp\nbg> show $/m);
  await feed("?");
  assert.equal(ed.line, "show ");
  assert.match(screen.text(), /^bg> show \?\n {2}peers {4}configured peers\nbg> show $/m);
  assert.deepEqual(asked, ["tab:sh", "tab:show ", "help:show "]);
  await feed('\x15set psk "a?b"');
  assert.equal(ed.line, 'set psk "a?b"');
});

Deno.test("keys typed ahead are edited under the prompt set after the command", async () => {
  const { screen, ed } = rig();
  const seen: string[] = [];
  for await (const i of ed.feed(new TextEncoder().encode("configure\rexit\r"))) {
    if ("line" in i) seen.push(i.line);
    ed.prompt("bg# ");
  }
  assert.deepEqual(seen, ["configure", "exit"]);
  assert.match(screen.text(), /^bg> configure\nbg# exit\n/m);
});

Deno.test("^C abandons the line, ^D ends only on an empty line", async () => {
  const { ed, feed } = rig();
  assert.deepEqual(await feed("abc\x03"), []);
  assert.equal(ed.line, "");
  assert.deepEqual(await feed("ab\x01\x04\r"), [{ line: "b" }]);
  assert.deepEqual(await feed("\x04"), [{ eof: true }]);
});

Deno.test("a long line scrolls sideways and never passes column 80", async () => {
  const { screen, ed, feed } = rig();
  const long = "set peer hq remote_id " + "x".repeat(150);
  await feed(long);
  assert.equal(ed.line, long);
  assert.equal(screen.overflow, false);
  assert.ok(screen.current().length <= 80);
  assert.ok(screen.current().endsWith("xxxx"));
  await feed("\x01");
  assert.ok(screen.current().startsWith("bg> set peer hq"));
});
