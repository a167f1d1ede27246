// The form's state turned into the API's template body (yuan → minor units, 折/% → rate_bp, local times → RFC 3339).
import { parseYuan } from "../../../../shared/money";
import type { Benefit, Scope, Validity } from "../../../../shared/terms";
import type { Audience, TemplateBody } from "../types";
import type { FormState, RateUnit } from "./model";

/** Problems found before sending, by field path: a key of the form's `local_*` messages. */
export type LocalErrors = Record<string, "required" | "amount" | "integer" | "rate" | "percent" | "time" | "hours">;

/** Splits "a, b，c" or one per line into trimmed, non-empty items. */
export function items(text: string): string[] {
  return text
    .split(/[,，、\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function money(e: LocalErrors, key: string, text: string, required = true): number | undefined {
  if (!text.trim()) {
    if (required) e[key] = "required";
    return undefined;
  }
  const v = parseYuan(text);
  if (v == null) e[key] = "amount";
  return v ?? undefined;
}

function int(e: LocalErrors, key: string, text: string, required = true): number | undefined {
  const t = text.trim();
  if (!t) {
    if (required) e[key] = "required";
    return undefined;
  }
  if (!/^\d{1,12}$/.test(t)) {
    e[key] = "integer";
    return undefined;
  }
  return Number(t);
}

/** "8.5" 折 → 8500; "15" % off → 8500 (the pay share in basis points). */
export function rateBp(e: LocalErrors, key: string, text: string, unit: RateUnit): number | undefined {
  const t = text.trim();
  if (!t) {
    e[key] = "required";
    return undefined;
  }
  const ok = unit === "zhe" ? /^\d{1,2}(\.\d{1,3})?$/.test(t) : /^\d{1,3}(\.\d{1,2})?$/.test(t);
  const v = Number(t);
  if (!ok || (unit === "zhe" ? v > 10 : v > 100)) {
    e[key] = "rate";
    return undefined;
  }
  return unit === "zhe" ? Math.round(v * 1000) : 10000 - Math.round(v * 100);
}

function pctBp(e: LocalErrors, key: string, text: string): number {
  const t = text.trim() || "0";
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(t) || Number(t) > 100) {
    e[key] = "percent";
    return 0;
  }
  return Math.round(Number(t) * 100);
}

/** A datetime-local value → RFC 3339 (UTC). */
function time(e: LocalErrors, key: string, text: string, required = true): string | undefined {
  if (!text) {
    if (required) e[key] = "required";
    return undefined;
  }
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) {
    e[key] = "time";
    return undefined;
  }
  return d.toISOString();
}

export function scopeOf(s: FormState, e: LocalErrors): Scope {
  const store = s.storeId.trim();
  if (s.scopeKind !== "platform" && !store) e["scope.store_id"] = "required";
  switch (s.scopeKind) {
    case "platform": {
      const c = items(s.categories);
      return c.length ? { kind: "platform", categories: c } : { kind: "platform" };
    }
    case "store":
      return { kind: "store", store_id: store };
    case "category":
      return { kind: "category", store_id: store, categories: items(s.categories) };
    case "product":
      return { kind: "product", store_id: store, skus: items(s.skus) };
  }
}

export function benefitOf(s: FormState, e: LocalErrors): Benefit {
  switch (s.benefitKind) {
    case "reduction":
      return {
        kind: "reduction",
        threshold: money(e, "benefit.threshold", s.threshold) ?? 0,
        off: money(e, "benefit.off", s.off) ?? 0,
      };
    case "percent": {
      const b: Benefit = { kind: "percent", rate_bp: rateBp(e, "benefit.rate_bp", s.rate, s.rateUnit) ?? 0 };
      if (s.percentCond === "amount") b.min_amount = money(e, "benefit.min_amount", s.minAmount);
      if (s.percentCond === "items") b.min_items = int(e, "benefit.min_items", s.minItems);
      const cap = money(e, "benefit.cap", s.cap, false);
      if (cap !== undefined) b.cap = cap;
      return b;
    }
    case "tiered":
      return {
        kind: "tiered",
        tiers: s.tiers.map((t, i) => ({
          min_items: int(e, `benefit.tiers[${i}].min_items`, t.minItems) ?? 0,
          rate_bp: rateBp(e, `benefit.tiers[${i}].rate_bp`, t.rate, s.rateUnit) ?? 0,
        })),
      };
    case "gift":
      if (!s.giftSku.trim()) e["benefit.gift_sku"] = "required";
      return { kind: "gift", threshold: money(e, "benefit.threshold", s.threshold) ?? 0, gift_sku: s.giftSku.trim() };
    case "free_shipping": {
      const b: Benefit = { kind: "free_shipping", threshold: money(e, "benefit.threshold", s.threshold) ?? 0 };
      const cap = money(e, "benefit.cap", s.cap, false);
      if (cap !== undefined) b.cap = cap;
      return b;
    }
  }
}

export function validityOf(s: FormState, e: LocalErrors): Validity {
  if (s.validityKind === "relative")
    return { kind: "relative", days: int(e, "validity.days", s.days) ?? 0, from_next_day: s.fromNextDay };
  return {
    kind: "fixed",
    valid_from: time(e, "validity.valid_from", s.validFrom) ?? "",
    valid_until: time(e, "validity.valid_until", s.validUntil) ?? "",
  };
}

function audienceOf(s: FormState, e: LocalErrors): Audience {
  switch (s.audienceKind) {
    case "all":
    case "new":
    case "returning":
      return { kind: s.audienceKind };
    case "tiers":
      return { kind: "tiers", tiers: items(s.audienceTiers) };
    case "segment":
      if (!s.segmentId.trim()) e["audience.segment_id"] = "required";
      return { kind: "segment", segment_id: s.segmentId.trim() };
    case "users":
      return { kind: "users", user_ids: items(s.userIds) };
    case "new_members":
      return { kind: "new_members", within_days: int(e, "audience.within_days", s.withinDays) ?? 0 };
  }
}

function hoursOf(s: FormState, e: LocalErrors): { from: string; until: string }[] | undefined {
  const parts = items(s.usableHours);
  if (!parts.length) return undefined;
  const out = [];
  for (const p of parts) {
    const m = /^(\d{2}:\d{2})\s*[-–~]\s*(\d{2}:\d{2})$/.exec(p);
    if (!m) {
      e.usable_hours = "hours";
      return undefined;
    }
    out.push({ from: m[1], until: m[2] });
  }
  return out;
}

/** The whole body, and what is wrong with the typed values (empty: ready to send). */
export function toBody(s: FormState): { body: TemplateBody; errors: LocalErrors } {
  const e: LocalErrors = {};
  if (!s.name.trim()) e.name = "required";
  const body: TemplateBody = {
    name: s.name.trim(),
    scope: scopeOf(s, e),
    benefit: benefitOf(s, e),
    validity: validityOf(s, e),
    audience: audienceOf(s, e),
    channels: s.allChannels ? null : (s.channels as NonNullable<TemplateBody["channels"]>),
    regions: s.allRegions ? null : items(s.regions),
    stock: int(e, "stock", s.stock, false) ?? null,
    per_user_limit: int(e, "per_user_limit", s.perUserLimit, false) ?? null,
    per_user_daily_limit: int(e, "per_user_daily_limit", s.perUserDailyLimit, false) ?? null,
    distribution: s.distribution as NonNullable<TemplateBody["distribution"]>,
    excludes_activity_price: s.excludesActivityPrice,
    funding: {
      platform_bp: pctBp(e, "funding.platform_bp", s.fundPlatform),
      merchant_bp: pctBp(e, "funding.merchant_bp", s.fundMerchant),
      supplier_bp: pctBp(e, "funding.supplier_bp", s.fundSupplier),
    },
  };
  if (s.description.trim()) body.description = s.description.trim();
  const hours = hoursOf(s, e);
  if (hours) body.usable_hours = hours;
  if (s.usableWeekdays.length) body.usable_weekdays = [...s.usableWeekdays].sort();
  const orders = items(s.usableOnOrders);
  if (orders.length) {
    if (orders.some((o) => !/^\d{1,7}$/.test(o))) e.usable_on_orders = "integer";
    else body.usable_on_orders = orders.map(Number);
  }
  const from = time(e, "claim_window.from", s.claimFrom, false);
  const until = time(e, "claim_window.until", s.claimUntil, false);
  if (from || until) body.claim_window = { from: from ?? null, until: until ?? null };
  const face = money(e, "face_value", s.faceValue, false);
  if (face !== undefined) body.face_value = face;
  return { body, errors: e };
}
