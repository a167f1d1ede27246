// Every term of a template as a definition list (the detail page's "all terms").
import { localDateTime } from "../../../shared/dates";
import { useLang } from "../../../shared/i18n";
import { yuan } from "../../../shared/money";
import { benefitText, scopeText, validityText } from "../../../shared/terms";
import { channelText, weekdayText } from "../../../shared/words";
import { useFormT } from "./form/messages";
import { shownValidity } from "./local";
import { useT } from "./messages";
import type { TemplateView } from "./types";

/** An RFC 3339 time in the reader's language and time zone. */
export const when = localDateTime;

export function Terms({ tpl }: { tpl: TemplateView }) {
  const l = useLang();
  const t = useFormT();
  const tt = useT();
  const pct = (bp: number | undefined) => `${(bp ?? 0) / 100}%`;
  const limit = (n: number | null) => (n == null ? t("always") : n.toLocaleString());
  const a = tpl.audience ?? { kind: "all" };
  const sep = l === "en" ? ": " : "：";
  const audience =
    (a.kind === "new_members" ? t("audienceWithin", { n: a.within_days }) : t(`audience_${a.kind}`)) +
    (a.kind === "tiers" ? `${sep}${a.tiers.join(", ")}` : "") +
    (a.kind === "segment" ? `${sep}${a.segment_id}` : "") +
    (a.kind === "users" ? `${sep}${a.user_ids.join(", ")}` : "");
  const scope =
    scopeText(tpl.scope, l) + (tpl.scope.kind === "product" ? ` — ${tpl.scope.skus.join(", ")}` : "");
  const rows: [string, string][] = [
    [t("sectionScope"), scope],
    [t("sectionBenefit"), benefitText(tpl.benefit, l)],
    [t("sectionValidity"), validityText(shownValidity(tpl.validity), l)],
    [tt("term_hours"), tpl.usable_hours?.map((h) => `${h.from}–${h.until}`).join(", ") || t("anyHour")],
    [tt("term_weekdays"), tpl.usable_weekdays?.map((d) => weekdayText(d, l)).join(" ") || t("everyDay")],
    [tt("term_orders"), tpl.usable_on_orders?.join(", ") || t("anyOrder")],
    [t("excludesActivityPrice"), tpl.excludes_activity_price ? t("yes") : t("no")],
    [t("sectionAudience"), audience],
    [t("channels"), tpl.channels ? tpl.channels.map((c) => channelText(c, l)).join(", ") : t("allChannels")],
    [t("regionsLegend"), tpl.regions ? tpl.regions.join(", ") : t("allRegions")],
    [tt("term_stock"), limit(tpl.stock ?? null)],
    [tt("term_perUser"), limit(tpl.per_user_limit ?? null)],
    [tt("term_daily"), limit(tpl.per_user_daily_limit ?? null)],
    [t("claimWindow"), tpl.claim_window ? `${when(tpl.claim_window.from, l)} – ${when(tpl.claim_window.until, l)}` : t("always")],
    [tt("term_distribution"), (tpl.distribution ?? []).map((d) => t(`dist_${d}` as "dist_public")).join(", ")],
    [
      tt("term_funding"),
      `${tt("fundPlatform")} ${pct(tpl.funding.platform_bp)} · ${tt("fundMerchant")} ${pct(tpl.funding.merchant_bp)} · ${tt("fundSupplier")} ${pct(tpl.funding.supplier_bp)}`,
    ],
    [tt("term_faceValue"), tpl.face_value != null ? yuan(tpl.face_value) : "—"],
  ];
  if (tpl.description) rows.unshift([tt("term_description"), tpl.description]);
  return (
    <dl className="terms">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
