// Money as people read it: minor units (fen) shown as ¥ with two decimals.

/** `9900` → `¥99.00`; negative amounts keep their sign before the ¥. */
export function yuan(minor: number): string {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(minor));
  const whole = Math.floor(abs / 100).toLocaleString("en-US");
  const cents = String(abs % 100).padStart(2, "0");
  return `${sign}¥${whole}.${cents}`;
}

/** A short amount for coupon faces: `9900` → `99`, `9950` → `99.5`. */
export function shortYuan(minor: number): string {
  const v = minor / 100;
  return Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/0$/, "");
}

/** Reads "99.00" or "99" typed by a person into minor units; null when it is not an amount. */
export function parseYuan(text: string): number | null {
  const t = text.trim().replace(/^¥/, "");
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return null;
  const [whole, frac = ""] = t.split(".");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0"));
}

/** Basis points as a percentage: `1234` → `12.34%`. */
export function percent(bp: number): string {
  return `${(bp / 100).toFixed(2)}%`;
}

/** A ratio in basis points as "×" (ROI): `123456` → `12.35×`; "—" when there is none. */
export function ratio(bp: number | null | undefined): string {
  return bp == null ? "—" : `${(bp / 10_000).toFixed(2)}×`;
}
