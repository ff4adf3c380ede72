/**
 * `branchgate shell`: the config shell, attached to the running daemon over its control socket.
 * On a terminal it is interactive (raw mode, line editing, history, Tab, `?`); otherwise it reads
 * commands from stdin, one per line, and prints only their output (for scripts).
 * @module
 */

import { parseArgs } from "node:util";
import { controlSocketPath, DEFAULT_STATE_DIR } from "../daemon/control_server.ts";
import { ControlClient } from "../shell/client.ts";
import { asciiLine, LineEditor } from "../shell/line_editor.ts";

const HELP = `usage: branchgate shell [--state-dir DIR]

Attaches to the daemon running on DIR (default ${DEFAULT_STATE_DIR}) through its control
socket DIR/control.sock (root only). Operational mode (prompt 'branchgate>'): show ike sa,
show esp sa, show peers, show config, show log [N], show version, clear ike sa NAME,
selftest, configure, exit. Configure mode ('branchgate#'): set, delete, show, compare,
commit [check | confirmed N], rollback N, discard, run CMD, exit. Tab completes, '?' lists
what may come next.

Without a terminal on stdin, each line of stdin is one command; only the output is printed,
and the exit status is 1 when a command failed.`;

const enc = new TextEncoder();

function out(text: string): void {
  const b = enc.encode(text);
  let off = 0;
  while (off < b.length) off += Deno.stdout.writeSync(b.subarray(off));
}

async function interactive(client: ControlClient, prompt: string): Promise<number> {
  const editor = new LineEditor(out, {
    complete: async (line) => {
      const r = await client.request("complete", line);
      return { insert: r.insert ?? "", listing: r.output };
    },
    help: async (line) => (await client.request("help", line)).output,
  });
  client.onNotice((n) => editor.print([`*** ${n}`]));
  Deno.stdin.setRaw(true);
  try {
    out("branchgate shell; type ? for help\r\n");
    editor.prompt(prompt);
    const buf = new Uint8Array(256);
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null) return 0;
      for await (const input of editor.feed(buf.slice(0, n))) {
        if ("eof" in input) return 0;
        const r = await client.request("exec", input.line);
        for (const l of r.output) out(asciiLine(l) + "\r\n");
        if (r.end) return 0;
        editor.prompt(r.prompt);
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
  }
}

async function scripted(client: ControlClient): Promise<number> {
  client.onNotice((n) => out(`*** ${n}\n`));
  let failed = 0;
  const dec = new TextDecoder();
  let rest = "";
  for await (const chunk of Deno.stdin.readable) {
    rest += dec.decode(chunk, { stream: true });
    const lines = rest.split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      const r = await client.request("exec", line.replace(/\r$/, ""));
      for (const l of r.output) out(l + "\n");
      if (!r.ok) failed++;
      if (r.end) return failed > 0 ? 1 : 0;
    }
  }
  if (rest.trim() !== "") {
    const r = await client.request("exec", rest);
    for (const l of r.output) out(l + "\n");
    if (!r.ok) failed++;
  }
  return failed > 0 ? 1 : 0;
}

/** Runs the subcommand; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { "state-dir": { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`branchgate shell: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  const path = controlSocketPath(values["state-dir"] ?? DEFAULT_STATE_DIR);
  let client: ControlClient;
  try {
    client = await ControlClient.connect(path);
  } catch (err) {
    console.error(`branchgate shell: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  try {
    const hello = await client.request("hello", "");
    return Deno.stdin.isTerminal()
      ? await interactive(client, hello.prompt)
      : await scripted(client);
  } catch (err) {
    console.error(`branchgate shell: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    client.close();
  }
}
