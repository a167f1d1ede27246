// A coupon's terms as a member reads them ("满99减10 · 领取后30天内有效"), from a template body.

import type { Schemas } from "./api";
import { shortYuan } from "./money";
import type { Lang } from "./i18n";

export type Benefit = Schemas["Benefit"];
export type Validity = Schemas["Validity"];
export type Scope = Schemas["Scope"];

/** An RFC 3339 time as the reader's local date: "2027.01.01". */
export function localDate(rfc3339: string): string {
  const t = new Date(rfc3339);
  if (Number.isNaN(t.getTime())) return rfc3339;
  const two = (n: number) => String(n).padStart(2, "0");
  return `${t.getFullYear()}.${two(t.getMonth() + 1)}.${two(t.getDate())}`;
}

/** `8500` (pay 85%) → "8.5折" / "15% off". */
function rate(bp: number, l: Lang): string {
  if (l === "en") return `${trim((10000 - bp) / 100)}% off`;
  return `${trim(bp / 1000)}折`;
}

function trim(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, "").replace(/\.$/, "");
}

/** The benefit: "满99减10", "无门槛减5", "满2件8折", "满199赠 SKU", "满49包邮". */
export function benefitText(b: Benefit, l: Lang): string {
  const en = l === "en";
  switch (b.kind) {
    case "reduction":
      if (b.threshold === 0) return en ? `¥${shortYuan(b.off)} off` : `无门槛减${shortYuan(b.off)}`;
      return en
        ? `¥${shortYuan(b.off)} off orders of ¥${shortYuan(b.threshold)}`
        : `满${shortYuan(b.threshold)}减${shortYuan(b.off)}`;
    case "percent": {
      const cap = b.cap ? (en ? `, up to ¥${shortYuan(b.cap)}` : `，最高减${shortYuan(b.cap)}`) : "";
      const cond =
        b.min_items != null
          ? en ? ` on ${b.min_items}+ items` : `满${b.min_items}件`
          : b.min_amount
            ? en ? ` on orders of ¥${shortYuan(b.min_amount)}` : `满${shortYuan(b.min_amount)}`
            : "";
      if (en) return `${rate(b.rate_bp, l)}${cond}${cap}`;
      return cond ? `${cond}享${rate(b.rate_bp, l)}${cap}` : `${rate(b.rate_bp, l)}${cap}`;
    }
    case "tiered":
      return b.tiers
        .map((t) => (en ? `${t.min_items}+ items ${rate(t.rate_bp, l)}` : `满${t.min_items}件享${rate(t.rate_bp, l)}`))
        .join(en ? ", " : "，");
    case "gift":
      return en
        ? `Free ${b.gift_sku} with orders of ¥${shortYuan(b.threshold)}`
        : `满${shortYuan(b.threshold)}赠 ${b.gift_sku}`;
    case "free_shipping": {
      const cap = b.cap ? (en ? ` (up to ¥${shortYuan(b.cap)})` : `（最高${shortYuan(b.cap)}元）`) : "";
      if (b.threshold === 0) return en ? `Free shipping${cap}` : `包邮${cap}`;
      return en
        ? `Free shipping on orders of ¥${shortYuan(b.threshold)}${cap}`
        : `满${shortYuan(b.threshold)}包邮${cap}`;
    }
  }
}

/** The validity: "领取后30天内有效", "领取次日起7天内有效", "2026.12.01–2026.12.31 有效". */
export function validityText(v: Validity, l: Lang): string {
  const en = l === "en";
  if (v.kind === "relative") {
    if (v.from_next_day)
      return en ? `Valid for ${v.days} days from the day after claiming` : `领取次日起${v.days}天内有效`;
    return en ? `Valid for ${v.days} days after claiming` : `领取后${v.days}天内有效`;
  }
  const d = localDate;
  return en ? `Valid ${d(v.valid_from)}–${d(v.valid_until)}` : `${d(v.valid_from)}–${d(v.valid_until)} 有效`;
}

/** Where it applies: "全平台通用", "店铺 s1 可用", "店铺 s1 指定品类可用". */
export function scopeText(s: Scope, l: Lang): string {
  const en = l === "en";
  switch (s.kind) {
    case "platform":
      return s.categories?.length
        ? en ? `Platform-wide, categories ${s.categories.join(", ")}` : `全平台指定品类：${s.categories.join("、")}`
        : en ? "Platform-wide" : "全平台通用";
    case "store":
      return en ? `Store ${s.store_id}` : `店铺 ${s.store_id} 可用`;
    case "category":
      return en
        ? `Store ${s.store_id}, categories ${s.categories.join(", ")}`
        : `店铺 ${s.store_id} 指定品类：${s.categories.join("、")}`;
    case "product":
      return en ? `Store ${s.store_id}, selected products` : `店铺 ${s.store_id} 指定商品可用`;
  }
}

/** The one-line summary a member sees: benefit · validity. */
export function termsLine(t: { benefit: Benefit; validity: Validity }, l: Lang): string {
  return `${benefitText(t.benefit, l)} · ${validityText(t.validity, l)}`;
}
