/**
 * The schema read back as field descriptions for the shell: names, help text, value kinds,
 * allowed values, ranges, defaults, which fields are lists, required or secret. Derived from the
 * valibot definitions in `schema.ts`, so completion and `?` help can never drift from validation.
 * @module
 */

import { GatewaySchema, PeerSchema } from "./schema.ts";

/** The kind of value a field takes. */
export type FieldKind = "integer" | "string" | "boolean" | "choice";

/** One field of `[gateway]` or `[[peer]]`. */
export interface FieldInfo {
  /** Key name. */
  readonly name: string;
  /** One line of help. */
  readonly help: string;
  /** Value kind (of the elements, for lists). */
  readonly kind: FieldKind;
  /** True when the field holds a list (`set` adds an element). */
  readonly list: boolean;
  /** Allowed values, for choices and booleans. */
  readonly values: readonly string[];
  /** Inclusive range, for integers. */
  readonly min?: number;
  /** Inclusive range, for integers. */
  readonly max?: number;
  /** Default value shown in help, if any. */
  readonly defaultValue?: unknown;
  /** True when the field must be given. */
  readonly required: boolean;
  /** True for secrets (masked in `show`). */
  readonly secret: boolean;
}

/** The parts of a valibot schema object this module reads (they are plain properties). */
interface Node {
  readonly type: string;
  readonly kind?: string;
  readonly pipe?: readonly Node[];
  readonly wrapped?: Node;
  readonly default?: unknown;
  readonly options?: readonly unknown[];
  readonly literal?: unknown;
  readonly item?: Node;
  readonly requirement?: unknown;
  readonly description?: string;
  readonly metadata?: Record<string, unknown>;
}

function describe(name: string, schema: Node): FieldInfo {
  let node = schema;
  let optional = false;
  let defaultValue: unknown = undefined;
  if (node.type === "optional" && node.wrapped !== undefined) {
    optional = true;
    defaultValue = node.default;
    node = node.wrapped;
  }
  let help = "";
  let secret = false;
  let required = !optional;
  let min: number | undefined;
  let max: number | undefined;
  const visit = (n: Node): void => {
    const base = n.pipe?.[0];
    if (base?.pipe !== undefined) visit(base);
    for (const step of n.pipe ?? []) {
      if (step === base) continue;
      if (step.type === "description" && typeof step.description === "string") {
        help = step.description;
      }
      if (step.type === "metadata" && step.metadata !== undefined) {
        if (step.metadata["secret"] === true) secret = true;
        if (step.metadata["required"] === true) required = true;
      }
      if (step.type === "min_value" && typeof step.requirement === "number") min = step.requirement;
      if (step.type === "max_value" && typeof step.requirement === "number") max = step.requirement;
    }
  };
  visit(node);
  let list = false;
  if (node.type === "array" && node.item !== undefined) {
    list = true;
    node = node.item;
    visit(node);
  }
  let kind: FieldKind = "string";
  let values: string[] = [];
  if (node.type === "number") kind = "integer";
  else if (node.type === "boolean") [kind, values] = ["boolean", ["true", "false"]];
  else if (node.type === "picklist") [kind, values] = ["choice", (node.options ?? []).map(String)];
  else if (node.type === "literal") [kind, values] = ["choice", [String(node.literal)]];
  else if (node.type === "union") {
    values = (node.options ?? [])
      .filter((o): o is Node => (o as Node).type === "literal")
      .map((o) => String(o.literal));
  }
  const info: FieldInfo = {
    name,
    help,
    kind,
    list,
    values,
    required,
    secret,
    ...(min !== undefined ? { min } : {}),
    ...(max !== undefined ? { max } : {}),
    ...(defaultValue !== undefined ? { defaultValue } : {}),
  };
  return info;
}

function fields(entries: Record<string, unknown>): FieldInfo[] {
  return Object.entries(entries).map(([name, s]) => describe(name, s as Node));
}

let cache: { gateway: FieldInfo[]; peer: FieldInfo[] } | undefined;

function all() {
  cache ??= { gateway: fields(GatewaySchema.entries), peer: fields(PeerSchema.entries) };
  return cache;
}

/** The `[gateway]` fields in schema order. */
export function gatewayFields(): readonly FieldInfo[] {
  return all().gateway;
}

/** The `[[peer]]` fields in schema order (`name` first). */
export function peerFields(): readonly FieldInfo[] {
  return all().peer;
}

/** The field `name` of `section`, if it exists. */
export function fieldInfo(section: "gateway" | "peer", name: string): FieldInfo | undefined {
  return (section === "gateway" ? gatewayFields() : peerFields()).find((f) => f.name === name);
}

/** True when a peer key holds a secret. */
export function isSecretKey(name: string): boolean {
  return fieldInfo("peer", name)?.secret === true;
}

/** A short description of the values a field takes (`<576-9000>`, `main|aggressive`). */
export function valueHint(f: FieldInfo): string {
  if (f.kind === "integer") return `<${f.min ?? ""}-${f.max ?? ""}>`;
  if (f.values.length > 0 && f.kind !== "string") return f.values.join("|");
  if (f.values.length > 0) return `<text>|${f.values.join("|")}`;
  return "<text>";
}
