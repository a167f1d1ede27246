// The template form's state as typed (strings, yuan, 折/%), its defaults, and a template read back into it.
import { shortYuan } from "../../../../shared/money";
import type { TemplateView } from "../types";

export type ScopeKind = "platform" | "store" | "category" | "product";
export type BenefitKind = "reduction" | "percent" | "tiered" | "gift" | "free_shipping";
export type AudienceKind = "all" | "new" | "returning" | "tiers" | "segment" | "users" | "new_members";
export type RateUnit = "zhe" | "off";

export interface FormState {
  name: string;
  description: string;
  scopeKind: ScopeKind;
  storeId: string;
  categories: string;
  skus: string;
  benefitKind: BenefitKind;
  threshold: string;
  off: string;
  percentCond: "none" | "amount" | "items";
  minAmount: string;
  minItems: string;
  rateUnit: RateUnit;
  rate: string;
  cap: string;
  tiers: { minItems: string; rate: string }[];
  giftSku: string;
  validityKind: "relative" | "fixed";
  days: string;
  fromNextDay: boolean;
  validFrom: string;
  validUntil: string;
  usableHours: string;
  usableWeekdays: number[];
  usableOnOrders: string;
  excludesActivityPrice: boolean;
  audienceKind: AudienceKind;
  audienceTiers: string;
  segmentId: string;
  userIds: string;
  withinDays: string;
  allChannels: boolean;
  channels: string[];
  allRegions: boolean;
  regions: string;
  stock: string;
  perUserLimit: string;
  perUserDailyLimit: string;
  claimFrom: string;
  claimUntil: string;
  distribution: string[];
  fundPlatform: string;
  fundMerchant: string;
  fundSupplier: string;
  faceValue: string;
}

export const emptyForm: FormState = {
  name: "",
  description: "",
  scopeKind: "store",
  storeId: "",
  categories: "",
  skus: "",
  benefitKind: "reduction",
  threshold: "",
  off: "",
  percentCond: "none",
  minAmount: "",
  minItems: "",
  rateUnit: "zhe",
  rate: "",
  cap: "",
  tiers: [{ minItems: "2", rate: "" }],
  giftSku: "",
  validityKind: "relative",
  days: "30",
  fromNextDay: false,
  validFrom: "",
  validUntil: "",
  usableHours: "",
  usableWeekdays: [],
  usableOnOrders: "",
  excludesActivityPrice: false,
  audienceKind: "all",
  audienceTiers: "",
  segmentId: "",
  userIds: "",
  withinDays: "7",
  allChannels: true,
  channels: [],
  allRegions: true,
  regions: "",
  stock: "",
  perUserLimit: "1",
  perUserDailyLimit: "",
  claimFrom: "",
  claimUntil: "",
  distribution: ["public"],
  fundPlatform: "0",
  fundMerchant: "100",
  fundSupplier: "0",
  faceValue: "",
};

/** A merchant-funded default for store scopes, platform-funded for platform scope. */
export function fundingFor(kind: ScopeKind): Pick<FormState, "fundPlatform" | "fundMerchant" | "fundSupplier"> {
  return kind === "platform"
    ? { fundPlatform: "100", fundMerchant: "0", fundSupplier: "0" }
    : { fundPlatform: "0", fundMerchant: "100", fundSupplier: "0" };
}

/** RFC 3339 → the value of a datetime-local input, in the browser's time zone. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Basis points (pay share) → the rate as typed in `unit`: 8500 → "8.5" 折 or "15" % off. */
export function rateText(bp: number, unit: RateUnit): string {
  const v = unit === "zhe" ? bp / 1000 : (10000 - bp) / 100;
  return String(Number(v.toFixed(3)));
}

const pct = (bp: number | undefined) => String((bp ?? 0) / 100);
const money = (minor: number | undefined | null) => (minor == null ? "" : shortYuan(minor));
const count = (n: number | null | undefined) => (n == null ? "" : String(n));

/** A template read back into the form, for editing a draft. */
export function fromTemplate(t: TemplateView): FormState {
  const f: FormState = { ...emptyForm, name: t.name, description: t.description ?? "" };
  const s = t.scope;
  f.scopeKind = s.kind;
  if (s.kind === "platform") f.categories = (s.categories ?? []).join(", ");
  if (s.kind !== "platform") f.storeId = s.store_id;
  if (s.kind === "category") f.categories = s.categories.join(", ");
  if (s.kind === "product") f.skus = s.skus.join(", ");
  const b = t.benefit;
  f.benefitKind = b.kind;
  if (b.kind === "reduction") Object.assign(f, { threshold: money(b.threshold), off: money(b.off) });
  if (b.kind === "percent") {
    f.percentCond = b.min_items != null ? "items" : b.min_amount != null ? "amount" : "none";
    Object.assign(f, { minAmount: money(b.min_amount), minItems: count(b.min_items), rate: rateText(b.rate_bp, "zhe"), cap: money(b.cap) });
  }
  if (b.kind === "tiered")
    f.tiers = b.tiers.map((x) => ({ minItems: String(x.min_items), rate: rateText(x.rate_bp, "zhe") }));
  if (b.kind === "gift") Object.assign(f, { threshold: money(b.threshold), giftSku: b.gift_sku });
  if (b.kind === "free_shipping") Object.assign(f, { threshold: money(b.threshold), cap: money(b.cap) });
  const v = t.validity;
  f.validityKind = v.kind;
  if (v.kind === "relative") Object.assign(f, { days: String(v.days), fromNextDay: !!v.from_next_day });
  else Object.assign(f, { validFrom: toLocalInput(v.valid_from), validUntil: toLocalInput(v.valid_until) });
  f.usableHours = (t.usable_hours ?? []).map((h) => `${h.from}-${h.until}`).join(", ");
  f.usableWeekdays = t.usable_weekdays ?? [];
  f.usableOnOrders = (t.usable_on_orders ?? []).join(", ");
  f.excludesActivityPrice = !!t.excludes_activity_price;
  const a = t.audience ?? { kind: "all" };
  f.audienceKind = a.kind;
  if (a.kind === "tiers") f.audienceTiers = a.tiers.join(", ");
  if (a.kind === "segment") f.segmentId = a.segment_id;
  if (a.kind === "users") f.userIds = a.user_ids.join(", ");
  if (a.kind === "new_members") f.withinDays = String(a.within_days);
  f.allChannels = t.channels == null;
  f.channels = t.channels ?? [];
  f.allRegions = t.regions == null;
  f.regions = (t.regions ?? []).join(", ");
  f.stock = count(t.stock ?? null);
  f.perUserLimit = count(t.per_user_limit ?? null);
  f.perUserDailyLimit = count(t.per_user_daily_limit ?? null);
  f.claimFrom = toLocalInput(t.claim_window?.from);
  f.claimUntil = toLocalInput(t.claim_window?.until);
  f.distribution = t.distribution ?? [];
  f.fundPlatform = pct(t.funding.platform_bp);
  f.fundMerchant = pct(t.funding.merchant_bp);
  f.fundSupplier = pct(t.funding.supplier_bp);
  f.faceValue = money(t.face_value);
  return f;
}
