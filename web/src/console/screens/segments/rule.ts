// Segment rules (docs/DOMAIN.md section 7): the builder's editable tree, and its turn into the
// API's rule (and / or / not over profile, stage, RFM and purchase conditions) and back.
import { parseYuan, shortYuan } from "../../../shared/money";

export type Rule =
  | { kind: "and" | "or"; rules: Rule[] }
  | { kind: "not"; rule: Rule }
  | { kind: "stage"; stages: string[] }
  | { kind: "rfm_tier"; tiers: string[] }
  | { kind: "rfm"; r?: Range; f?: Range; m?: Range }
  | { kind: "tier"; tiers: string[] }
  | { kind: "tag"; tag: string }
  | { kind: "region"; regions: string[] }
  | { kind: "channel"; channels: string[] }
  | { kind: "guide"; guide_id: string }
  | { kind: "points"; min?: number; max?: number }
  | { kind: "joined_within"; days: number }
  | { kind: "bought"; category: string; within_days: number }
  | { kind: "spent"; min: number; within_days?: number }
  | { kind: "orders"; min: number; within_days?: number };

interface Range {
  min?: number;
  max?: number;
}

export const LEAF_KINDS = [
  "orders", "spent", "bought", "stage", "rfm_tier", "rfm", "tier", "tag", "region", "channel",
  "guide", "points", "joined_within",
] as const;
export type LeafKind = (typeof LEAF_KINDS)[number];

/** A condition as typed: every value a string (or the boxes ticked), read when sent. */
export interface LeafDraft {
  kind: LeafKind;
  picks: string[];
  v: Record<string, string>;
}

export type Node =
  | { key: number; negate: boolean; type: "group"; op: "and" | "or"; children: Node[] }
  | { key: number; negate: boolean; type: "leaf"; leaf: LeafDraft };

let keys = 0;
export const nextKey = () => ++keys;

export function newLeaf(kind: LeafKind = "orders"): Node {
  const v: Record<string, string> = kind === "orders" ? { min: "1" } : {};
  return { key: nextKey(), negate: false, type: "leaf", leaf: { kind, picks: [], v } };
}

export function newGroup(op: "and" | "or" = "and", children: Node[] = [newLeaf()]): Node {
  return { key: nextKey(), negate: false, type: "group", op, children };
}

/** Local problems, keyed by the API's path of the field (`rule.rules[0].min`). */
export type Problems = Record<string, "required" | "notNumber" | "notAmount" | "pickOne">;

/** The API rule of `node` at `path` (`rule` for the root), gathering problems on the way. */
export function toRule(node: Node, path: string, problems: Problems): Rule {
  const inner = node.negate ? `${path}.rule` : path;
  const rule = node.type === "group"
    ? { kind: node.op, rules: node.children.map((c, i) => toRule(c, `${inner}.rules[${i}]`, problems)) }
    : leafRule(node.leaf, inner, problems);
  return node.negate ? { kind: "not", rule } : rule;
}

function leafRule(leaf: LeafDraft, at: string, problems: Problems): Rule {
  const s = (name: string) => (leaf.v[name] ?? "").trim();
  const list = (name: string) => s(name).split(/[,，\s]+/).filter(Boolean);
  const need = (name: string) => {
    if (!s(name)) problems[`${at}.${name}`] = "required";
    return s(name);
  };
  const int = (name: string, required: boolean): number | undefined => {
    const text = s(name);
    if (!text) {
      if (required) problems[`${at}.${name}`] = "required";
      return undefined;
    }
    if (!/^-?\d+$/.test(text)) {
      problems[`${at}.${name}`] = "notNumber";
      return undefined;
    }
    return Number(text);
  };
  const picks = (field: string) => {
    if (leaf.picks.length === 0) problems[`${at}.${field}`] = "pickOne";
    return leaf.picks;
  };
  const range = (n: string): Range | undefined => {
    const min = int(`${n}_min`, false);
    const max = int(`${n}_max`, false);
    if (min === undefined && max === undefined) return undefined;
    return { ...(min !== undefined && { min }), ...(max !== undefined && { max }) };
  };
  switch (leaf.kind) {
    case "stage":
      return { kind: "stage", stages: picks("stages") };
    case "rfm_tier":
      return { kind: "rfm_tier", tiers: picks("tiers") };
    case "rfm": {
      const r = range("r"), f = range("f"), m = range("m");
      return { kind: "rfm", ...(r && { r }), ...(f && { f }), ...(m && { m }) };
    }
    case "tier":
      if (!s("tiers")) problems[`${at}.tiers`] = "required";
      return { kind: "tier", tiers: list("tiers") };
    case "region":
      if (!s("regions")) problems[`${at}.regions`] = "required";
      return { kind: "region", regions: list("regions") };
    case "channel":
      if (!s("channels")) problems[`${at}.channels`] = "required";
      return { kind: "channel", channels: list("channels") };
    case "tag":
      return { kind: "tag", tag: need("tag") };
    case "guide":
      return { kind: "guide", guide_id: need("guide_id") };
    case "points": {
      const min = int("min", false), max = int("max", false);
      return { kind: "points", ...(min !== undefined && { min }), ...(max !== undefined && { max }) };
    }
    case "joined_within":
      return { kind: "joined_within", days: int("days", true) ?? 0 };
    case "bought":
      return { kind: "bought", category: need("category"), within_days: int("within_days", true) ?? 0 };
    case "spent": {
      let min = 0;
      if (!s("min")) problems[`${at}.min`] = "required";
      else {
        const v = parseYuan(s("min"));
        if (v === null) problems[`${at}.min`] = "notAmount";
        else min = v;
      }
      const within = int("within_days", false);
      return { kind: "spent", min, ...(within !== undefined && { within_days: within }) };
    }
    case "orders": {
      const within = int("within_days", false);
      return { kind: "orders", min: int("min", true) ?? 0, ...(within !== undefined && { within_days: within }) };
    }
  }
}

/** The editable tree of a saved rule (the root is always a group). */
export function fromRule(rule: Rule): Node {
  const node = read(rule);
  return node.type === "group" ? node : newGroup("and", [node]);
}

function read(rule: Rule): Node {
  if (rule.kind === "not") return { ...read(rule.rule), negate: true };
  if (rule.kind === "and" || rule.kind === "or")
    return { key: nextKey(), negate: false, type: "group", op: rule.kind, children: rule.rules.map(read) };
  const leaf: LeafDraft = { kind: rule.kind, picks: [], v: {} };
  const str = (n: number | null | undefined) => (n == null ? "" : String(n));
  switch (rule.kind) {
    case "stage":
      leaf.picks = rule.stages;
      break;
    case "rfm_tier":
      leaf.picks = rule.tiers;
      break;
    case "rfm":
      for (const n of ["r", "f", "m"] as const) {
        leaf.v[`${n}_min`] = str(rule[n]?.min);
        leaf.v[`${n}_max`] = str(rule[n]?.max);
      }
      break;
    case "tier":
      leaf.v.tiers = rule.tiers.join(", ");
      break;
    case "region":
      leaf.v.regions = rule.regions.join(", ");
      break;
    case "channel":
      leaf.v.channels = rule.channels.join(", ");
      break;
    case "tag":
      leaf.v.tag = rule.tag;
      break;
    case "guide":
      leaf.v.guide_id = rule.guide_id;
      break;
    case "points":
      leaf.v = { min: str(rule.min), max: str(rule.max) };
      break;
    case "joined_within":
      leaf.v.days = String(rule.days);
      break;
    case "bought":
      leaf.v = { category: rule.category, within_days: String(rule.within_days) };
      break;
    case "spent":
      leaf.v = { min: shortYuan(rule.min), within_days: str(rule.within_days) };
      break;
    case "orders":
      leaf.v = { min: String(rule.min), within_days: str(rule.within_days) };
      break;
  }
  return { key: nextKey(), negate: false, type: "leaf", leaf };
}

/** `node` with the node of `key` replaced by `f(it)` (or removed when `f` answers null). */
export function update(node: Node, key: number, f: (n: Node) => Node | null): Node | null {
  if (node.key === key) return f(node);
  if (node.type !== "group") return node;
  const children = node.children.map((c) => update(c, key, f)).filter((c): c is Node => c !== null);
  return { ...node, children };
}
