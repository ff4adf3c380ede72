/**
 * A small line editor for a terminal in raw mode (the `shell` client on a TTY, the serial
 * console): plain ASCII, VT100 cursor keys, history, Tab completion and `?` help through async
 * hooks, and a line that scrolls sideways so nothing ever wraps past 80 columns.
 *
 * Keys: printable ASCII inserts; Backspace/^H deletes left; Delete/^D deletes under the cursor
 * (^D on an empty line ends the session); Left/Right/^B/^F/Home/End/^A/^E move; Up/Down/^P/^N
 * walk the history; ^U kills to the start, ^K to the end, ^W the word before; ^C abandons the
 * line; ^L redraws; Tab completes; `?` (outside quotes) shows help for the words so far.
 * @module
 */

import type { CompletionResult } from "./complete.ts";

/** The session's side of Tab and `?`. */
export interface LineEditorHooks {
  /** Tab on the text left of the cursor. */
  complete(line: string): Promise<CompletionResult>;
  /** `?` on the text left of the cursor. */
  help(line: string): Promise<readonly string[]>;
}

/** A finished input: a line, or the end of the session (^D on an empty line). */
export type EditorInput = { readonly line: string } | { readonly eof: true };

/** Terminal columns the editor never writes past. */
export const EDITOR_COLUMNS = 80;

const ESC = "\x1b";

/** The editor. Feed it bytes; it writes the echo and returns finished lines. */
export class LineEditor {
  readonly #write: (text: string) => void;
  readonly #hooks: LineEditorHooks;
  readonly #historySize: number;
  readonly #history: string[] = [];
  #histPos = 0;
  #saved = "";
  #prompt = "";
  #buf = "";
  #cur = 0;
  #scroll = 0;
  #esc: "" | "esc" | "csi" = "";
  #csi = "";
  #lastCr = false;

  /** An editor writing its echo with `write`. */
  constructor(write: (text: string) => void, hooks: LineEditorHooks, historySize = 100) {
    this.#write = write;
    this.#hooks = hooks;
    this.#historySize = historySize;
  }

  /** The current line (for tests). */
  get line(): string {
    return this.#buf;
  }

  /** Sets the prompt and draws a fresh, empty line. */
  prompt(prompt: string): void {
    this.#prompt = prompt.slice(0, EDITOR_COLUMNS - 20);
    this.#buf = "";
    this.#cur = 0;
    this.#scroll = 0;
    this.#histPos = this.#history.length;
    this.#redraw();
  }

  /** Prints lines above the line being edited (notices), then redraws it. */
  print(lines: readonly string[]): void {
    this.#write(`\r${ESC}[K`);
    for (const l of lines) this.#write(asciiLine(l) + "\r\n");
    this.#redraw();
  }

  /**
   * Feeds input bytes and yields each finished input. Bytes typed ahead are processed only
   * when the caller asks for the next input, so a prompt set after a command applies to them.
   */
  async *feed(bytes: Uint8Array): AsyncGenerator<EditorInput> {
    for (const b of bytes) {
      const r = await this.#key(b);
      if (r !== undefined) yield r;
    }
  }

  async #key(b: number): Promise<EditorInput | undefined> {
    const cr = this.#lastCr;
    this.#lastCr = b === 0x0d;
    if (this.#esc === "esc") {
      this.#esc = b === 0x5b || b === 0x4f ? "csi" : "";
      this.#csi = "";
      return undefined;
    }
    if (this.#esc === "csi") {
      if (b >= 0x40 && b <= 0x7e) {
        this.#esc = "";
        this.#sequence(this.#csi, String.fromCharCode(b));
      } else if (this.#csi.length < 8) {
        this.#csi += String.fromCharCode(b);
      } else {
        this.#esc = "";
      }
      return undefined;
    }
    switch (b) {
      case 0x0a:
        if (cr) return undefined;
        return this.#enter();
      case 0x0d:
        return this.#enter();
      case 0x1b:
        this.#esc = "esc";
        return undefined;
      case 0x09:
        await this.#complete();
        return undefined;
      case 0x7f:
      case 0x08:
        if (this.#cur > 0) this.#edit(this.#buf.slice(0, this.#cur - 1), this.#cur - 1);
        return undefined;
      case 0x04:
        if (this.#buf === "") {
          this.#write("\r\n");
          return { eof: true };
        }
        this.#deleteUnder();
        return undefined;
      case 0x03:
        this.#write("^C\r\n");
        this.prompt(this.#prompt);
        return undefined;
      case 0x01:
        return this.#move(0);
      case 0x05:
        return this.#move(this.#buf.length);
      case 0x02:
        return this.#move(this.#cur - 1);
      case 0x06:
        return this.#move(this.#cur + 1);
      case 0x0b:
        this.#buf = this.#buf.slice(0, this.#cur);
        this.#redraw();
        return undefined;
      case 0x15:
        this.#edit("", 0);
        return undefined;
      case 0x17: {
        const left = this.#buf.slice(0, this.#cur).replace(/\S+\s*$/, "");
        this.#edit(left, left.length);
        return undefined;
      }
      case 0x0c:
        this.#write(`${ESC}[H${ESC}[2J`);
        this.#redraw();
        return undefined;
      case 0x10:
        this.#historyStep(-1);
        return undefined;
      case 0x0e:
        this.#historyStep(1);
        return undefined;
    }
    if (b === 0x3f && !insideQuote(this.#buf.slice(0, this.#cur))) {
      await this.#help();
      return undefined;
    }
    if (b >= 0x20 && b < 0x7f) this.#insert(String.fromCharCode(b));
    return undefined;
  }

  #sequence(params: string, final: string): void {
    if (final === "A") this.#historyStep(-1);
    else if (final === "B") this.#historyStep(1);
    else if (final === "C") this.#move(this.#cur + 1);
    else if (final === "D") this.#move(this.#cur - 1);
    else if (final === "H" || (final === "~" && (params === "1" || params === "7"))) this.#move(0);
    else if (final === "F" || (final === "~" && (params === "4" || params === "8"))) {
      this.#move(this.#buf.length);
    } else if (final === "~" && params === "3") this.#deleteUnder();
  }

  #enter(): EditorInput {
    const line = this.#buf;
    this.#cur = line.length;
    this.#redraw();
    this.#write("\r\n");
    if (line.trim() !== "" && this.#history[this.#history.length - 1] !== line) {
      this.#history.push(line);
      if (this.#history.length > this.#historySize) this.#history.shift();
    }
    this.#buf = "";
    this.#cur = 0;
    this.#scroll = 0;
    this.#histPos = this.#history.length;
    return { line };
  }

  #insert(s: string): void {
    this.#edit(
      this.#buf.slice(0, this.#cur) + s,
      this.#cur + s.length,
    );
  }

  /** Replaces the text left of the cursor with `left` (the right part stays). */
  #edit(left: string, cur: number): void {
    this.#buf = left + this.#buf.slice(this.#cur);
    this.#cur = cur;
    this.#redraw();
  }

  #deleteUnder(): void {
    if (this.#cur >= this.#buf.length) return;
    this.#buf = this.#buf.slice(0, this.#cur) + this.#buf.slice(this.#cur + 1);
    this.#redraw();
  }

  #move(to: number): undefined {
    this.#cur = Math.max(0, Math.min(this.#buf.length, to));
    this.#redraw();
    return undefined;
  }

  #historyStep(d: number): void {
    const next = this.#histPos + d;
    if (next < 0 || next > this.#history.length) return;
    if (this.#histPos === this.#history.length) this.#saved = this.#buf;
    this.#histPos = next;
    this.#buf = next === this.#history.length ? this.#saved : this.#history[next]!;
    this.#cur = this.#buf.length;
    this.#redraw();
  }

  async #complete(): Promise<void> {
    const left = this.#buf.slice(0, this.#cur);
    const r = await this.#hooks.complete(left);
    if (r.listing.length > 0) {
      this.#write("\r\n");
      for (const l of r.listing) this.#write(asciiLine(l) + "\r\n");
    }
    if (r.insert !== "") this.#insert(asciiOnly(r.insert));
    else this.#redraw();
  }

  async #help(): Promise<void> {
    const left = this.#buf.slice(0, this.#cur);
    const lines = await this.#hooks.help(left);
    this.#write("?\r\n");
    for (const l of lines) this.#write(asciiLine(l) + "\r\n");
    this.#redraw();
  }

  #redraw(): void {
    const width = EDITOR_COLUMNS - 1 - this.#prompt.length;
    if (this.#cur < this.#scroll) this.#scroll = this.#cur;
    if (this.#cur - this.#scroll > width) this.#scroll = this.#cur - width;
    const shown = this.#buf.slice(this.#scroll, this.#scroll + width);
    const col = this.#prompt.length + this.#cur - this.#scroll;
    const back = this.#prompt.length + shown.length - col;
    this.#write(`\r${this.#prompt}${shown}${ESC}[K${back > 0 ? `${ESC}[${back}D` : ""}`);
  }
}

/** True when `s` ends inside a double-quoted string. */
function insideQuote(s: string): boolean {
  let open = false;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && open) i++;
    else if (s[i] === '"') open = !open;
  }
  return open;
}

/** Printable ASCII only (anything else shown as '?'). */
function asciiOnly(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?");
}

/** One output line as printable ASCII, wrapped at 79 columns, joined with CR LF. */
export function asciiLine(s: string): string {
  const a = asciiOnly(s);
  const parts: string[] = [];
  for (let i = 0; i < a.length; i += EDITOR_COLUMNS - 1) parts.push(a.slice(i, i + 79));
  return parts.length === 0 ? "" : parts.join("\r\n");
}
