/**
 * Reads branchgate's `show ike sa` and `show esp sa` text (src/shell/views.ts) back into
 * {@link ResponderIkeSa} / {@link ResponderEspSa}, so the suite compares what an operator sees
 * with what strongSwan's `--list-sas` says.
 * @module
 */

import type { ResponderEspSa, ResponderIkeSa } from "./responder.ts";

/** `show` output of another shape; names the line. */
export class ShowParseError extends Error {
  /** Builds the error for line `index` (0-based) with a reason. */
  constructor(index: number, reason: string) {
    super(`show output line ${index + 1}: ${reason}`);
    this.name = "ShowParseError";
  }
}

const IKE_HEAD = /^(\S+): (\S+), (\S+) <-> (\S+)$/;
const ESP_HEAD = /^(\S+): (in |out) spi ([0-9a-f]{8}) (\S+?)( udp-encap)?, age \S+$/;
const ESP_COUNT = /^ {2}(\d+) packets, (\d+) bytes/;

/** Parses `show ike sa` (three lines per SA). */
export function parseShowIkeSa(text: string): ResponderIkeSa[] {
  const lines = text.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
  if (lines.length === 1 && lines[0] === "no IKE SAs") return [];
  const out: ResponderIkeSa[] = [];
  for (let i = 0; i < lines.length; i += 3) {
    const head = lines[i]!.match(IKE_HEAD);
    if (head === null) throw new ShowParseError(i, `not an IKE SA head: '${lines[i]}'`);
    const spis = lines[i + 1]?.match(/^ {2}spis (.*)$/);
    if (spis === null || spis === undefined) throw new ShowParseError(i + 1, "no spis line");
    const cookies = spis[1]!.match(/[0-9a-fA-F]{16}/g) ?? [];
    if (cookies.length !== 2) throw new ShowParseError(i + 1, `cookies in '${spis[1]}'`);
    const algs = lines[i + 2]?.match(/^ {2}(\S+), age /);
    if (algs === null || algs === undefined) throw new ShowParseError(i + 2, "no algorithms");
    out.push({
      peer: head[1]!,
      state: head[2]!,
      initiatorSpi: cookies[0]!.toLowerCase(),
      responderSpi: cookies[1]!.toLowerCase(),
      proposal: algs[1] === "(negotiating)" ? "" : algs[1]!,
    });
  }
  return out;
}

/** Parses `show esp sa` (three lines per SA). */
export function parseShowEspSa(text: string): ResponderEspSa[] {
  const lines = text.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
  if (lines.length === 1 && lines[0] === "no ESP SAs") return [];
  const out: ResponderEspSa[] = [];
  for (let i = 0; i < lines.length; i += 3) {
    const head = lines[i]!.match(ESP_HEAD);
    if (head === null) throw new ShowParseError(i, `not an ESP SA head: '${lines[i]}'`);
    const count = lines[i + 2]?.match(ESP_COUNT);
    if (count === null || count === undefined) throw new ShowParseError(i + 2, "no counters");
    out.push({
      peer: head[1]!,
      direction: head[2] === "in " ? "in" : "out",
      spi: parseInt(head[3]!, 16),
      transform: head[4]!,
      packets: Number(count[1]),
    });
  }
  return out;
}
