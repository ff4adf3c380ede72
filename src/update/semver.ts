/**
 * Semantic versions (semver 2.0.0): parsing and precedence. Build metadata is kept for display
 * but ignored in comparisons, as the spec requires.
 * @module
 */

/** A parsed version. */
export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Pre-release identifiers ("rc", 1), empty for a release. */
  readonly prerelease: readonly (string | number)[];
  /** The text it was parsed from. */
  readonly text: string;
}

const NUM = "(0|[1-9][0-9]*)";
const PRE_ID = "(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)";
const SEMVER = new RegExp(
  `^${NUM}\\.${NUM}\\.${NUM}(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$`,
);

/** Longest version string accepted. */
export const MAX_VERSION_LENGTH = 64;

/** Parses `text`; undefined when it is not a semver version (or its numbers are too large). */
export function parseSemVer(text: unknown): SemVer | undefined {
  if (typeof text !== "string" || text.length > MAX_VERSION_LENGTH) return undefined;
  const m = SEMVER.exec(text);
  if (m === null) return undefined;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined;
  const prerelease: (string | number)[] = [];
  if (m[4] !== undefined) {
    for (const id of m[4].split(".")) {
      if (/^[0-9]+$/.test(id)) {
        const n = Number(id);
        if (!Number.isSafeInteger(n)) return undefined;
        prerelease.push(n);
      } else {
        prerelease.push(id);
      }
    }
  }
  return { major, minor, patch, prerelease, text };
}

function comparePre(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  // semver 2.0.0 §11: a release ranks above its pre-releases; identifiers compare left to right,
  // numbers numerically and below strings, strings in ASCII order; more identifiers rank higher.
  if (a.length === 0 || b.length === 0) return b.length - a.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as string | number;
    const y = b[i] as string | number;
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return x < y ? -1 : 1;
    if (typeof x === "number") return -1;
    if (typeof y === "number") return 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Precedence: negative when a < b, 0 when equal, positive when a > b. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  return Math.sign(comparePre(a.prerelease, b.prerelease));
}

/** Compares two version strings; throws RangeError when either is not semver. */
export function compareVersions(a: string, b: string): number {
  const x = parseSemVer(a);
  const y = parseSemVer(b);
  if (x === undefined) throw new RangeError(`not a semantic version: ${JSON.stringify(a)}`);
  if (y === undefined) throw new RangeError(`not a semantic version: ${JSON.stringify(b)}`);
  return compareSemVer(x, y);
}
