/**
 * The shell on a serial console (`run --console /dev/ttyS0`): the device in raw mode at 115200
 * 8N1 (hw/serial.ts), the line editor echoing plain ASCII within 80 columns, one shell session
 * (committer "console"). `exit` in operational mode starts a fresh session: a console never
 * goes away. Automatic rollbacks are announced above the prompt.
 * @module
 */

import { configureSerial } from "../../hw/serial.ts";
import type { Logger } from "../log.ts";
import { LineEditor } from "../shell/line_editor.ts";
import { ShellSession } from "../shell/session.ts";
import type { Gateway } from "./gateway.ts";

/** Serves the console on `device`; resolves with a function that stops it. */
export async function serveConsole(
  device: string,
  gateway: Gateway,
  log: Logger,
): Promise<() => Promise<void>> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(device, { read: true, write: true });
    configureSerial(device);
  } catch (err) {
    throw new Error(`console ${device}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const enc = new TextEncoder();
  let writes: Promise<unknown> = Promise.resolve();
  const write = (text: string) => {
    const bytes = enc.encode(text);
    writes = writes.then(async () => {
      let off = 0;
      while (off < bytes.length) off += await file.write(bytes.subarray(off));
    }).catch(() => undefined);
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
      let n: number | null;
      try {
        n = await file.read(buf);
      } catch (err) {
        if (!closed) log.error("console read failed", { device, error: String(err) });
        return;
      }
      if (n === null) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      for (const input of await editor.feed(buf.subarray(0, n))) {
        if ("eof" in input) {
          session = new ShellSession(gateway, "console");
        } else {
          const r = await session.execute(input.line);
          editor.print(r.output);
          if (r.end) {
            write("session ended\r\n");
            session = new ShellSession(gateway, "console");
          }
        }
        editor.prompt(session.prompt());
      }
    }
  })();
  log.info("console serving", { device });
  return async () => {
    closed = true;
    unsubscribe();
    await writes;
    try {
      file.close();
    } catch {
      // already closed
    }
    await Promise.race([loop, new Promise((r) => setTimeout(r, 500))]);
  };
}
