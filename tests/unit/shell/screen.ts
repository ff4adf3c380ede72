/**
 * A tiny VT100 screen for pty tests: applies what a program writes to a terminal (printable
 * ASCII, CR, LF, BS, ESC[K, ESC[nC/D, ESC[H, ESC[2J) to a grid of 80 columns, so tests assert
 * what an operator would see rather than the raw byte stream.
 */

/** The screen. */
export class Screen {
  /** Rows of text (no trailing blanks). */
  readonly rows: string[][] = [[]];
  #row = 0;
  #col = 0;
  #esc = "";
  /** Set when a character was written past column 80. */
  overflow = false;

  /** Applies bytes written by the program. */
  write(text: string): void {
    for (const ch of text) {
      if (this.#esc !== "") {
        this.#esc += ch;
        if (/^\[[0-9;]*$/.test(this.#esc.slice(1))) continue;
        this.#sequence(this.#esc);
        this.#esc = "";
        continue;
      }
      if (ch === "\x1b") this.#esc = ch;
      else if (ch === "\r") this.#col = 0;
      else if (ch === "\n") {
        this.#row++;
        while (this.rows.length <= this.#row) this.rows.push([]);
      } else if (ch === "\b") this.#col = Math.max(0, this.#col - 1);
      else if (ch >= " " && ch <= "~") {
        if (this.#col >= 80) this.overflow = true;
        const r = this.rows[this.#row]!;
        while (r.length < this.#col) r.push(" ");
        r[this.#col++] = ch;
      }
    }
  }

  #sequence(seq: string): void {
    const m = /^\[([0-9;]*)([A-Za-z])$/.exec(seq.slice(1));
    if (m === null) return;
    const n = Number(m[1] || "1");
    const r = this.rows[this.#row]!;
    switch (m[2]) {
      case "K":
        r.length = Math.min(r.length, this.#col);
        break;
      case "C":
        this.#col += n;
        break;
      case "D":
        this.#col = Math.max(0, this.#col - n);
        break;
      case "H":
        this.#row = 0;
        this.#col = 0;
        break;
      case "J":
        this.rows.length = 0;
        this.rows.push([]);
        this.#row = 0;
        break;
    }
  }

  /** The whole screen as text. */
  text(): string {
    return this.rows.map((r) => r.join("")).join("\n");
  }

  /** The row the cursor is on. */
  current(): string {
    return (this.rows[this.#row] ?? []).join("");
  }
}
