// Maps an API error's dotted field path (e.g. `benefit.tiers[1].rate_bp`) to the form input that shows it.
import type { FormState } from "./model";

const BASE = [
  "name", "description",
  "scope.kind", "scope.store_id", "scope.categories", "scope.skus",
  "benefit.kind", "benefit.threshold", "benefit.off", "benefit.min_amount", "benefit.min_items",
  "benefit.rate_bp", "benefit.cap", "benefit.tiers", "benefit.gift_sku",
  "validity.kind", "validity.days", "validity.valid_from", "validity.valid_until",
  "usable_hours", "usable_weekdays", "usable_on_orders",
  "audience.kind", "audience.tiers", "audience.segment_id", "audience.user_ids", "audience.within_days",
  "channels", "regions", "stock", "per_user_limit", "per_user_daily_limit",
  "claim_window.from", "claim_window.until", "distribution",
  "funding", "funding.platform_bp", "funding.merchant_bp", "funding.supplier_bp", "face_value",
];

/** The paths the form shows an input (or group) for, given its state. */
export function knownPaths(s: FormState): Set<string> {
  const known = new Set(BASE);
  s.tiers.forEach((_, i) => {
    known.add(`benefit.tiers[${i}].min_items`);
    known.add(`benefit.tiers[${i}].rate_bp`);
  });
  return known;
}

/** The input for `field`: itself, else its nearest parent the form knows (`scope.skus[2]` → `scope.skus`). */
export function resolvePath(field: string | undefined, known: Set<string>): string | null {
  let f = field?.trim();
  while (f) {
    if (known.has(f)) return f;
    const cut = Math.max(f.lastIndexOf("."), f.lastIndexOf("["));
    if (cut <= 0) return null;
    f = f.slice(0, cut);
  }
  return null;
}
