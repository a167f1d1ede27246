// The campaign builder's form as typed (strings, yuan, percent) and its turn into a campaign
// body (minor units, basis points), with each unreadable value keyed by its API path.
import { parseYuan } from "../../../shared/money";
import type { Action, Audience, CampaignSpec, Trigger } from "./types";

// The API's names for what the form holds as plain strings (its pickers offer only these).
type EventName = Extract<Trigger, { kind: "event" }>["event"];
type Stage = Extract<Audience, { kind: "stages" }>["stages"][number];
type RfmTier = Extract<Audience, { kind: "rfm_tiers" }>["tiers"][number];
type MessageChannel = Extract<Action, { kind: "message" }>["channel"];

export type ActionKind = Action["kind"];

export interface ActionDraft {
  key: number;
  kind: ActionKind;
  template_id: string;
  template_ids: string[];
  title: string;
  material: string;
  message: string;
  channel: string;
  text: string;
  link_template_id: string;
  budget: string;
  min_roi: string;
  expected_use: string;
}

export interface CampaignDraft {
  name: string;
  trigger: {
    kind: Trigger["kind"];
    event: string;
    delay_hours: string;
    weekdays: string[];
    at: string;
    since: "joined" | "last_order";
    hours: string;
  };
  audience: { kind: Audience["kind"]; segment_id: string; tiers: string; stages: string[]; rfm_tiers: string[] };
  actions: ActionDraft[];
  cap_count: string;
  cap_days: string;
  budget_count: string;
  budget_amount: string;
  holdout: string;
  starts_at: string;
  ends_at: string;
}

let keys = 0;
export function newAction(kind: ActionKind = "grant"): ActionDraft {
  return {
    key: ++keys, kind, template_id: "", template_ids: [], title: "", material: "", message: "",
    channel: "sms", text: "", link_template_id: "", budget: "", min_roi: "", expected_use: "",
  };
}

export function newDraft(): CampaignDraft {
  return {
    name: "",
    trigger: { kind: "event", event: "signup", delay_hours: "", weekdays: [], at: "10:00", since: "last_order", hours: "168" },
    audience: { kind: "all", segment_id: "", tiers: "", stages: [], rfm_tiers: [] },
    actions: [newAction()],
    cap_count: "", cap_days: "", budget_count: "", budget_amount: "", holdout: "", starts_at: "", ends_at: "",
  };
}

export type Problem = "required" | "notNumber" | "notAmount" | "notPercent" | "pickOne" | "notTime" | "bothCap";

/** The campaign body of `d`, and the problems found (none: it may be sent). */
export function toSpec(d: CampaignDraft): { spec: CampaignSpec; problems: Record<string, Problem> } {
  const problems: Record<string, Problem> = {};
  const int = (path: string, text: string, required = false): number | undefined => {
    const s = text.trim();
    if (!s) {
      if (required) problems[path] = "required";
      return undefined;
    }
    if (!/^\d+$/.test(s)) {
      problems[path] = "notNumber";
      return undefined;
    }
    return Number(s);
  };
  const money = (path: string, text: string, required = false): number | undefined => {
    const s = text.trim();
    if (!s) {
      if (required) problems[path] = "required";
      return undefined;
    }
    const v = parseYuan(s);
    if (v === null) problems[path] = "notAmount";
    return v ?? undefined;
  };
  /** A percentage typed as 0..100 (two decimals at most) → basis points. */
  const percent = (path: string, text: string, max = 100): number | undefined => {
    const s = text.trim();
    if (!s) return undefined;
    if (!/^\d+(\.\d{1,2})?$/.test(s) || Number(s) > max) {
      problems[path] = "notPercent";
      return undefined;
    }
    return Math.round(Number(s) * 100);
  };
  const need = (path: string, text: string) => {
    if (!text.trim()) problems[path] = "required";
    return text.trim();
  };

  const tr = d.trigger;
  let trigger: Trigger;
  switch (tr.kind) {
    case "event": {
      const delay = int("trigger.delay_hours", tr.delay_hours);
      trigger = { kind: "event", event: tr.event as EventName, ...(delay !== undefined && { delay_hours: delay }) };
      break;
    }
    case "schedule":
      if (tr.weekdays.length === 0) problems["trigger.weekdays"] = "pickOne";
      if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(tr.at.trim())) problems["trigger.at"] = "notTime";
      trigger = { kind: "schedule", weekdays: tr.weekdays.map(Number).sort(), at: tr.at.trim() };
      break;
    case "inactivity":
      trigger = { kind: "inactivity", since: tr.since, hours: int("trigger.hours", tr.hours, true) ?? 0 };
      break;
    case "once":
      trigger = { kind: "once" };
      break;
  }

  const au = d.audience;
  let audience: Audience;
  switch (au.kind) {
    case "all":
      audience = { kind: "all" };
      break;
    case "segment":
      audience = { kind: "segment", segment_id: need("audience.segment_id", au.segment_id) };
      break;
    case "tiers": {
      const tiers = au.tiers.split(/[,，\s]+/).filter(Boolean);
      if (!tiers.length) problems["audience.tiers"] = "required";
      audience = { kind: "tiers", tiers };
      break;
    }
    case "stages":
      if (!au.stages.length) problems["audience.stages"] = "pickOne";
      audience = { kind: "stages", stages: au.stages as Stage[] };
      break;
    case "rfm_tiers":
      if (!au.rfm_tiers.length) problems["audience.tiers"] = "pickOne";
      audience = { kind: "rfm_tiers", tiers: au.rfm_tiers as RfmTier[] };
      break;
  }

  const actions: Action[] = d.actions.map((a, i) => {
    const at = `actions[${i}]`;
    switch (a.kind) {
      case "grant":
        return { kind: "grant", template_id: need(`${at}.template_id`, a.template_id) };
      case "grant_pack":
        if (!a.template_ids.length) problems[`${at}.template_ids`] = "pickOne";
        return { kind: "grant_pack", template_ids: a.template_ids };
      case "task":
        return {
          kind: "task",
          title: need(`${at}.title`, a.title),
          ...(a.template_id && { template_id: a.template_id }),
          ...(a.material.trim() && { material: a.material.trim() }),
          ...(a.message.trim() && { message: a.message.trim() }),
        };
      case "message":
        return {
          kind: "message",
          channel: a.channel as MessageChannel,
          text: need(`${at}.text`, a.text),
          ...(a.link_template_id && { link_template_id: a.link_template_id }),
        };
      case "allocate": {
        if (!a.template_ids.length) problems[`${at}.template_ids`] = "pickOne";
        const roi = a.min_roi.trim();
        let min_roi_bp: number | undefined;
        if (roi) {
          if (!/^\d+(\.\d{1,4})?$/.test(roi)) problems[`${at}.min_roi_bp`] = "notNumber";
          else min_roi_bp = Math.round(Number(roi) * 10000);
        }
        const use = percent(`${at}.expected_use_bp`, a.expected_use);
        return {
          kind: "allocate",
          template_ids: a.template_ids,
          budget: money(`${at}.budget`, a.budget, true) ?? 0,
          ...(min_roi_bp !== undefined && { min_roi_bp }),
          ...(use !== undefined && { expected_use_bp: use }),
        };
      }
    }
  });

  const spec: CampaignSpec = { name: need("name", d.name), trigger, audience, actions };
  const capCount = int("frequency_cap.count", d.cap_count);
  const capDays = int("frequency_cap.days", d.cap_days);
  if ((capCount === undefined) !== (capDays === undefined) && !problems["frequency_cap.count"] && !problems["frequency_cap.days"])
    problems[capCount === undefined ? "frequency_cap.count" : "frequency_cap.days"] = "bothCap";
  if (capCount !== undefined && capDays !== undefined) spec.frequency_cap = { count: capCount, days: capDays };
  const bCount = int("budget.count", d.budget_count);
  const bAmount = money("budget.amount", d.budget_amount);
  if (bCount !== undefined || bAmount !== undefined)
    spec.budget = { ...(bCount !== undefined && { count: bCount }), ...(bAmount !== undefined && { amount: bAmount }) };
  const holdout = percent("holdout_bp", d.holdout);
  if (holdout !== undefined) spec.holdout_bp = holdout;
  if (d.starts_at) spec.starts_at = new Date(d.starts_at).toISOString();
  if (d.ends_at) spec.ends_at = new Date(d.ends_at).toISOString();
  return { spec, problems };
}
