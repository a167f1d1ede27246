// A coupon's terms for members, term by term: full amounts, hours, days, channels, limits, local times.
import type { Lang } from "../shared/i18n";
import { translator } from "../shared/i18n";
import { shortYuan, yuan } from "../shared/money";
import { benefitText, scopeText, validityText, type Benefit } from "../shared/terms";
import { channelText, isChannel, weekdayText } from "../shared/words";
import type { PublicTemplate } from "./api";
import { member } from "./messages";

/** A local date and time: "2026/12/01 18:00" / "12/01/2026, 18:00". */
export function localTime(iso: string, l: Lang): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(l === "en" ? "en-GB" : "zh-CN", {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  });
}

function trim(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, "").replace(/\.$/, "");
}

function rate(bp: number, l: Lang): string {
  return l === "en" ? `${trim((10000 - bp) / 100)}% off` : `${trim(bp / 1000)}折`;
}

/** The coupon face: a big value and the condition under it. */
export function face(b: Benefit, l: Lang): { big: string; small: string } {
  const t = translator(member, l);
  const min = (threshold: number) => (threshold > 0 ? t("minSpend", { n: shortYuan(threshold) }) : t("noMinimum"));
  switch (b.kind) {
    case "reduction":
      return { big: `¥${shortYuan(b.off)}`, small: min(b.threshold) };
    case "percent":
      return {
        big: rate(b.rate_bp, l),
        small: b.min_items != null ? benefitText(b, l) : min(b.min_amount ?? 0),
      };
    case "tiered":
      return { big: t("multiBuy"), small: benefitText(b, l) };
    case "gift":
      return { big: t("gift"), small: min(b.threshold) };
    case "free_shipping":
      return { big: t("freeShipping"), small: min(b.threshold) };
  }
}

/** The benefit with every amount in full (¥ and two decimals). */
export function fullBenefit(b: Benefit, l: Lang): string {
  const en = l === "en";
  switch (b.kind) {
    case "reduction":
      if (b.threshold === 0) return en ? `${yuan(b.off)} off, no minimum spend` : `无门槛立减 ${yuan(b.off)}`;
      return en ? `${yuan(b.off)} off orders of ${yuan(b.threshold)} or more` : `订单满 ${yuan(b.threshold)} 减 ${yuan(b.off)}`;
    case "percent": {
      const cond =
        b.min_items != null
          ? en ? ` on ${b.min_items} or more items` : `满 ${b.min_items} 件`
          : b.min_amount
            ? en ? ` on orders of ${yuan(b.min_amount)} or more` : `订单满 ${yuan(b.min_amount)} `
            : "";
      const cap = b.cap ? (en ? `, at most ${yuan(b.cap)} off` : `，最多减 ${yuan(b.cap)}`) : "";
      return en ? `${rate(b.rate_bp, l)}${cond}${cap}` : `${cond}打${rate(b.rate_bp, l)}${cap}`;
    }
    case "tiered":
      return benefitText(b, l);
    case "gift":
      return en ? `Free ${b.gift_sku} with orders of ${yuan(b.threshold)} or more` : `订单满 ${yuan(b.threshold)} 赠 ${b.gift_sku}`;
    case "free_shipping": {
      const cap = b.cap ? (en ? ` (up to ${yuan(b.cap)})` : `（最多 ${yuan(b.cap)}）`) : "";
      if (b.threshold === 0) return en ? `Free shipping${cap}` : `包邮${cap}`;
      return en ? `Free shipping on orders of ${yuan(b.threshold)} or more${cap}` : `订单满 ${yuan(b.threshold)} 包邮${cap}`;
    }
  }
}

/** The page's `?channel=` when it is one the API knows (an unknown one would fail every claim). */
export function channelParam(): string | undefined {
  const c = new URLSearchParams(location.search).get("channel");
  return c && isChannel(c) ? c : undefined;
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? "th" : ["th", "st", "nd", "rd"][n % 10] ?? "th";
  return `${n}${s}`;
}

/** The terms a member reads before claiming, as [label, value] rows; limited terms only when limited. */
export function termRows(tpl: PublicTemplate, l: Lang): [string, string][] {
  const t = translator(member, l);
  const sep = l === "en" ? ", " : "、";
  const rows: [string, string][] = [
    [t("benefit"), fullBenefit(tpl.benefit, l)],
    [t("validity"), validityText(tpl.validity, l)],
    [t("scope"), scopeText(tpl.scope, l)],
  ];
  if (tpl.usable_hours?.length) rows.push([t("hours"), tpl.usable_hours.map((h) => `${h.from}–${h.until}`).join(sep)]);
  if (tpl.usable_weekdays?.length && tpl.usable_weekdays.length < 7)
    rows.push([t("weekdays"), [...tpl.usable_weekdays].sort().map((d) => weekdayText(d, l)).join(sep)]);
  const w = tpl.claim_window;
  if (w && (w.from || w.until)) {
    const parts = [w.from ? t("from", { t: localTime(w.from, l) }) : "", w.until ? t("until", { t: localTime(w.until, l) }) : ""];
    rows.push([t("claimWindow"), parts.filter(Boolean).join(l === "en" ? ", " : "，")]);
  }
  if (tpl.channels) rows.push([t("channels"), tpl.channels.map((c) => channelText(c, l)).join(sep)]);
  if (tpl.regions) rows.push([t("regions"), tpl.regions.join(sep)]);
  const cond: string[] = [];
  if (tpl.distribution.includes("member_only")) cond.push(t("membersOnly"));
  if (tpl.usable_on_orders?.length) {
    const n = tpl.usable_on_orders.map((o) => (l === "en" ? ordinal(o) : String(o))).join(t("or"));
    cond.push(t("onOrders", { n }));
  }
  if (tpl.excludes_activity_price) cond.push(t("noActivityPrice"));
  if (cond.length) rows.push([t("conditions"), cond.join(l === "en" ? "; " : "；")]);
  const limits = [
    tpl.per_user_limit != null ? t("perUser", { n: tpl.per_user_limit }) : "",
    tpl.per_user_daily_limit != null ? t("perDay", { n: tpl.per_user_daily_limit }) : "",
  ].filter(Boolean);
  rows.push([t("limits"), limits.length ? limits.join(l === "en" ? "; " : "，") : t("noLimit")]);
  if (tpl.stock != null && tpl.remaining != null)
    rows.push([t("remaining"), t("remainingValue", { left: tpl.remaining, stock: tpl.stock })]);
  return rows;
}
