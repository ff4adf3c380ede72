/**
 * Registry tables (name → number) and the reverse lookup used for logs and `show` output.
 * Registries are open-ended: a number without a name prints as `UNKNOWN_<n>` and is otherwise
 * carried through decoding and encoding unchanged.
 * @module
 */

/** A registry table: symbolic name → assigned number. */
export type Registry = Readonly<Record<string, number>>;

const reverse = new WeakMap<Registry, Map<number, string>>();

/** The name of `value` in `table`, or `UNKNOWN_<value>` when the table has none. */
export function nameOf(table: Registry, value: number): string {
  let names = reverse.get(table);
  if (names === undefined) {
    names = new Map();
    for (const [name, v] of Object.entries(table)) if (!names.has(v)) names.set(v, name);
    reverse.set(table, names);
  }
  return names.get(value) ?? `UNKNOWN_${value}`;
}
