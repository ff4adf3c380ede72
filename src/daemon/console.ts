/**
 * The shell on a serial console (`run --console /dev/ttyS0`): the device in raw mode at 115200
 * 8N1 (hw/serial.ts, polled for input every 20 ms), the line editor echoing plain ASCII within 80 columns, one shell session
 * (committer "console"). `exit` in operational mode starts a fresh session: a console never
 * goes away. Automatic rollbacks are announced above the prompt.
 * @module
 */

import { openSerial, type SerialPort } from "../../hw/serial.ts";
import type { Logger } from "../log.ts";
import { LineEditor } from "../shell/line_editor.ts";
import { ShellSession } from "../shell/session.ts";
import type { Gateway } from "./gateway.ts";

/** How often the console polls its line for input (ms); typing speed needs no less. */
const POLL_MS = 20;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Serves the console on `device`; returns a function that stops it. Throws when it cannot. */
export function serveConsole(
  device: string,
  gateway: Gateway,
  log: Logger,
): () => Promise<void> {
  let port: SerialPort;
  try {
    port = openSerial(device);
  } catch (err) {
    throw new Error(`console ${device}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const enc = new TextEncoder();
  let writes: Promise<unknown> = Promise.resolve();
  const write = (text: string) => {
    const bytes = enc.encode(text);
    writes = writes.then(async () => {
      let off = 0;
      let stalls = 0;
      while (off < bytes.length) {
        const n = port.write(bytes.subarray(off));
        if (n < 0) return;
        if (n === 0) {
          // The line is full (115200 baud): wait; give up after 5 s without progress.
          if (++stalls > 500) return;
          await sleep(10);
          continue;
        }
        stalls = 0;
        off += n;
      }
    });
  };
  let session = new ShellSession(gateway, "console");
  const editor = new LineEditor(write, {
    complete: (line) => Promise.resolve(session.complete(line)),
    help: (line) => Promise.resolve(session.help(line)),
  });
  const unsubscribe = gateway.onNotice((line) => editor.print([`*** ${line}`]));
  let closed = false;
  const loop = (async () => {
    write("\r\nbranchgate console; type ? for help\r\n");
    editor.prompt(session.prompt());
    const buf = new Uint8Array(256);
    while (!closed) {
      const n = port.read(buf);
      if (n < 0) {
        if (!closed) log.error("console line gone: console stopped", { device });
        return;
      }
      if (n === 0) {
        await sleep(POLL_MS);
        continue;
      }
      for await (const input of editor.feed(buf.slice(0, n))) {
        if ("eof" in input) {
          editor.print(["session ended"]);
          session = new ShellSession(gateway, "console");
        } else {
          const r = await session.execute(input.line);
          editor.print(r.end ? [...r.output, "session ended"] : r.output);
          if (r.end) session = new ShellSession(gateway, "console");
        }
        editor.prompt(session.prompt());
      }
    }
  })();
  log.info("console serving", { device });
  return async () => {
    closed = true;
    unsubscribe();
    await Promise.race([writes, sleep(1000)]);
    await Promise.race([loop, sleep(500)]);
    port.close();
  };
}
