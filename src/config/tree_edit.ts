/**
 * Edits of a raw config tree by shell path, following the file's layout:
 * `gateway FIELD VALUE`, `peer NAME FIELD VALUE` (a new NAME creates the peer). For list fields
 * `set` adds an element and `delete … VALUE` removes one. Values are typed from the schema
 * (integers, booleans, choices); the full validation happens at commit. Edits never mutate
 * their input: they return a new tree or an error string.
 * @module
 */

import type { RawTree } from "./parse.ts";
import { type FieldInfo, fieldInfo } from "./schema_info.ts";

/** An edit's outcome: the new tree, or why the edit is refused. */
export type EditResult = { readonly ok: true; readonly tree: RawTree } | {
  readonly ok: false;
  readonly error: string;
};

function clone(tree: RawTree): RawTree {
  return structuredClone(tree);
}

function table(x: unknown): Record<string, unknown> | undefined {
  return x !== null && typeof x === "object" && !Array.isArray(x)
    ? x as Record<string, unknown>
    : undefined;
}

/** The peers array of a tree (created when `create`). */
function peers(tree: RawTree, create: boolean): Record<string, unknown>[] | undefined {
  const p = tree["peer"];
  if (Array.isArray(p)) return p as Record<string, unknown>[];
  if (!create) return undefined;
  const list: Record<string, unknown>[] = [];
  tree["peer"] = list;
  return list;
}

/** The raw peer table named `name`, if present. */
export function findPeer(tree: RawTree, name: string): Record<string, unknown> | undefined {
  return peers(tree, false)?.map(table).find((p) => p?.["name"] === name);
}

/** Names of the peers in a tree, in order. */
export function peerNames(tree: RawTree): string[] {
  return (peers(tree, false) ?? [])
    .map((p) => table(p)?.["name"])
    .filter((n): n is string => typeof n === "string");
}

/** Converts shell text to the field's value type. */
export function typedValue(f: FieldInfo, text: string): { value: unknown } | { error: string } {
  if (f.kind === "integer" || (f.kind === "choice" && /^[0-9]+$/.test(f.values[0] ?? ""))) {
    if (!/^[0-9]{1,16}$/.test(text)) return { error: `${f.name}: '${text}' is not a number` };
    return { value: Number(text) };
  }
  if (f.kind === "boolean") {
    if (text !== "true" && text !== "false") return { error: `${f.name}: use true or false` };
    return { value: text === "true" };
  }
  if (f.kind === "choice" && !f.values.includes(text)) {
    return { error: `${f.name}: use one of ${f.values.join(", ")}` };
  }
  return { value: text };
}

/** Resolves `words` to the table to edit and the field; creates a missing peer if `create`. */
function locate(
  tree: RawTree,
  words: readonly string[],
  create: boolean,
):
  | { target: Record<string, unknown>; field: FieldInfo; rest: readonly string[] }
  | { error: string } {
  const [section, ...tail] = words;
  if (section === "gateway") {
    const [name, ...rest] = tail;
    if (name === undefined) return { error: "gateway: which field?" };
    const field = fieldInfo("gateway", name);
    if (field === undefined) return { error: `gateway: no field '${name}'` };
    let target = table(tree["gateway"]);
    if (target === undefined) {
      if (!create) return { error: "gateway: nothing set" };
      target = {};
      tree["gateway"] = target;
    }
    return { target, field, rest };
  }
  if (section === "peer") {
    const [peerName, name, ...rest] = tail;
    if (peerName === undefined) return { error: "peer: which peer?" };
    if (name === undefined) return { error: `peer ${peerName}: which field?` };
    const field = fieldInfo("peer", name);
    if (field === undefined) return { error: `peer: no field '${name}'` };
    if (field.name === "name") return { error: "peer: rename by deleting and re-creating" };
    let target = findPeer(tree, peerName);
    if (target === undefined) {
      if (!create) return { error: `peer ${peerName}: no such peer` };
      if (!/^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(peerName)) {
        return { error: `peer ${peerName}: names start with a letter; A-Z a-z 0-9 _ -, max 32` };
      }
      target = { name: peerName };
      peers(tree, true)!.push(target);
    }
    return { target, field, rest };
  }
  return { error: section === undefined ? "set what?" : `no section '${section}'` };
}

/** `set PATH VALUE`. */
export function setPath(tree: RawTree, words: readonly string[]): EditResult {
  const next = clone(tree);
  const loc = locate(next, words, true);
  if ("error" in loc) return { ok: false, error: loc.error };
  const { target, field, rest } = loc;
  if (rest.length !== 1) {
    return { ok: false, error: `${field.name}: give exactly one value` };
  }
  const typed = typedValue(field, rest[0]!);
  if ("error" in typed) return { ok: false, error: typed.error };
  if (field.list) {
    const cur = target[field.name];
    const list = Array.isArray(cur) ? [...cur] : [];
    if (!list.includes(typed.value)) list.push(typed.value);
    target[field.name] = list;
  } else {
    target[field.name] = typed.value;
  }
  return { ok: true, tree: next };
}

/** `delete PATH [VALUE]`; `delete peer NAME` removes the peer. */
export function deletePath(tree: RawTree, words: readonly string[]): EditResult {
  const next = clone(tree);
  if (words[0] === "peer" && words.length === 2) {
    const list = peers(next, false);
    const i = list?.findIndex((p) => table(p)?.["name"] === words[1]) ?? -1;
    if (list === undefined || i < 0) return { ok: false, error: `peer ${words[1]}: no such peer` };
    list.splice(i, 1);
    if (list.length === 0) delete next["peer"];
    return { ok: true, tree: next };
  }
  const loc = locate(next, words, false);
  if ("error" in loc) return { ok: false, error: loc.error };
  const { target, field, rest } = loc;
  if (!(field.name in target)) return { ok: false, error: `${field.name}: not set` };
  if (rest.length === 0) {
    delete target[field.name];
  } else if (field.list && rest.length === 1) {
    const typed = typedValue(field, rest[0]!);
    if ("error" in typed) return { ok: false, error: typed.error };
    const cur = target[field.name];
    const list = Array.isArray(cur) ? cur.filter((x) => x !== typed.value) : [];
    if (Array.isArray(cur) && list.length === cur.length) {
      return { ok: false, error: `${field.name}: '${rest[0]}' is not in the list` };
    }
    if (list.length === 0) delete target[field.name];
    else target[field.name] = list;
  } else {
    return { ok: false, error: `${field.name}: delete takes no value` };
  }
  if (words[0] === "gateway" && Object.keys(target).length === 0) delete next["gateway"];
  return { ok: true, tree: next };
}
