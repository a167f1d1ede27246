// Times as people read them, one way for every page: day before month in English (as the
// member pages always wrote them), year first in Chinese; in the reader's time zone.
import type { Lang } from "./i18n";

const locale = (l: Lang | string) => (l === "en" ? "en-GB" : "zh-CN");

/** A date and time: "1 Mar 2026, 10:00" / "2026年3月1日 10:00". */
export function localDateTime(iso: string | null | undefined, l: Lang | string): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(locale(l), { dateStyle: "medium", timeStyle: "short" });
}

/** A date: "1 Mar 2026" / "2026年3月1日". */
export function localDay(iso: string, l: Lang | string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString(locale(l), { dateStyle: "medium" });
}
