// The sandbox's cart as typed (yuan strings) and its turn into a quote request (minor units).
import type { Schemas } from "../../../shared/api";
import { parseYuan } from "../../../shared/money";

export interface LineDraft {
  line_id: string;
  sku: string;
  store_id: string;
  category: string;
  unit_price: string;
  activity_price: string;
  qty: string;
}

export interface CartDraft {
  lines: LineDraft[];
  shipping: Record<string, string>;
  channel: string;
  region: string;
  /** A local date-time (`datetime-local`), or empty for now. */
  at: string;
}

/** POST /v1/checkout/quote: the request (a cart line is the API's `Line`) and its answer. */
export type QuoteLine = Schemas["Line"];
export type QuoteBody = Schemas["QuoteBody"];
export type Quote = Schemas["Quote"];

/** Which local check a typed value fails: keys are API-style paths (`lines[0].unit_price`). */
export type LocalErrors = Record<string, "required" | "notAmount" | "notQty">;

export function newLine(n: number): LineDraft {
  return { line_id: String(n), sku: "", store_id: "", category: "", unit_price: "", activity_price: "", qty: "1" };
}

/** The stores of the cart's lines, in first-seen order. */
export function storesOf(lines: LineDraft[]): string[] {
  const seen: string[] = [];
  for (const l of lines) {
    const s = l.store_id.trim();
    if (s && !seen.includes(s)) seen.push(s);
  }
  return seen;
}

/** The request for `draft`, or the fields that cannot be read yet. */
export function toQuoteBody(
  userId: string,
  draft: CartDraft,
  pin: string[],
  exclude: string[],
): { body: QuoteBody; errors: null } | { body: null; errors: LocalErrors } {
  const errors: LocalErrors = {};
  const lines: QuoteLine[] = draft.lines.map((l, i) => {
    const at = `lines[${i}]`;
    if (!l.sku.trim()) errors[`${at}.sku`] = "required";
    if (!l.store_id.trim()) errors[`${at}.store_id`] = "required";
    const unit = parseYuan(l.unit_price);
    if (unit === null) errors[`${at}.unit_price`] = l.unit_price.trim() ? "notAmount" : "required";
    let activity: number | null | undefined;
    if (l.activity_price.trim()) {
      activity = parseYuan(l.activity_price);
      if (activity === null) errors[`${at}.activity_price`] = "notAmount";
    }
    const qty = /^\d+$/.test(l.qty.trim()) ? Number(l.qty.trim()) : NaN;
    if (!(qty >= 1)) errors[`${at}.qty`] = "notQty";
    const line: QuoteLine = {
      line_id: l.line_id,
      sku: l.sku.trim(),
      store_id: l.store_id.trim(),
      unit_price: unit ?? 0,
      qty,
    };
    if (l.category.trim()) line.category = l.category.trim();
    if (activity != null) line.activity_price = activity;
    return line;
  });
  const shipping: Record<string, number> = {};
  for (const store of storesOf(draft.lines)) {
    const text = draft.shipping[store]?.trim();
    if (!text) continue;
    const fee = parseYuan(text);
    if (fee === null) errors[`shipping.${store}`] = "notAmount";
    else shipping[store] = fee;
  }
  if (Object.keys(errors).length) return { body: null, errors };
  const body: QuoteBody = { user_id: userId.trim(), lines };
  if (draft.channel) body.channel = draft.channel as QuoteBody["channel"];
  if (draft.region.trim()) body.region = draft.region.trim();
  if (draft.at) body.at = new Date(draft.at).toISOString();
  if (Object.keys(shipping).length) body.shipping = shipping;
  if (pin.length) body.pin = pin;
  if (exclude.length) body.exclude = exclude;
  return { body, errors: null };
}
