/**
 * `make bench` part 1 with I/O: runs io_run.ts inside a network namespace created for it (root
 * only; nothing touches the host's own namespace) and returns its rows.
 */

/** One measured row (see io_run.ts). */
export interface IoRow {
  /** "encap", "decap" or "plain UDP". */
  readonly what: string;
  /** Inner packet size in bytes. */
  readonly size: number;
  /** ESP transform. */
  readonly transform: string;
  /** Datagrams/s the generator got into the kernel. */
  readonly generated: number;
  /** Packets/s the data path processed (ESP sent, or inner packets written to the TUN). */
  readonly processed: number;
  /** Share of one core the data-path thread used meanwhile. */
  readonly cpu: number;
}

/** Runs the I/O measurement; a string says why it was skipped. */
export async function runIoBench(): Promise<IoRow[] | string> {
  if (Deno.uid() !== 0) return "skipped: needs root (a network namespace and a TUN device)";
  const ns = `bgbench${Deno.pid}`;
  const add = await new Deno.Command("ip", { args: ["netns", "add", ns] }).output();
  if (add.code !== 0) return "skipped: cannot create a network namespace";
  try {
    const run = new URL("./io_run.ts", import.meta.url).pathname;
    const r = await new Deno.Command("ip", {
      args: ["netns", "exec", ns, Deno.execPath(), "run", "--frozen", "--allow-all", run],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(r.stdout).trim().split("\n").at(-1) ?? "";
    if (r.code !== 0 || !out.startsWith("[")) {
      return `failed: ${new TextDecoder().decode(r.stderr).trim().slice(0, 500)}`;
    }
    return JSON.parse(out) as IoRow[];
  } finally {
    await new Deno.Command("ip", { args: ["netns", "del", ns] }).output();
  }
}
