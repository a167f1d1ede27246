// A template's review (`GET /v1/templates/{id}/review`): its coupons claimed and used, what
// they gave by funder, the orders they were used in, by day, claim route and campaign; each
// chart's numbers in a table beside it.
import { useEffect, useState } from "react";
import type { Schemas } from "../../../shared/api";
import { percent, ratio, yuan } from "../../../shared/money";
import { BarChart } from "../../charts";
import { useApi } from "../../session";
import { ErrorBanner } from "../../ui";
import { useReview } from "../campaigns/reviewMessages";

type Review = Schemas["TemplateReview"];
type Slice = Schemas["Slice"];

/** `version` changes when the template's counters do: the review is read again. */
export function TemplateReviewPanel({ id, version }: { id: string; version: number }) {
  const t = useReview();
  const api = useApi();
  const [review, setReview] = useState<Review | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    api<Review>("GET", `/v1/templates/${encodeURIComponent(id)}/review`).then(
      (r) => live && setReview(r),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [api, id, version]);
  if (!review) return <ErrorBanner error={error} />;
  const r = review;
  const facts: [string, string][] = [
    [t("claimedN"), String(r.claimed)],
    [t("usedN"), String(r.used)],
    [t("useRate"), r.use_rate_bp != null ? percent(r.use_rate_bp) : "—"],
    [t("faceUsed"), yuan(r.face_value_used)],
    [t("given"), yuan(r.discount_given)],
    [t("orders"), String(r.coupon_orders.count)],
    [t("gmv"), yuan(r.coupon_orders.gmv)],
    [t("roi"), ratio(r.roi_bp)],
  ];
  const slices = (label: string, rows: Slice[], name: (k: string) => string) => (
    <table className="compact" aria-label={label}>
      <thead>
        <tr>
          <th scope="col">{label}</th>
          <th scope="col" className="num">{t("claimedN")}</th>
          <th scope="col" className="num">{t("usedN")}</th>
          <th scope="col" className="num">{t("given")}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((s) => (
          <tr key={s.key}>
            <th scope="row">{name(s.key)}</th>
            <td className="num">{s.claimed}</td>
            <td className="num">{s.used}</td>
            <td className="num">{yuan(s.discount_given)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
  return (
    <section className="card review" aria-labelledby="tpl-review">
      <h2 id="tpl-review">{t("templateReview")}</h2>
      <dl className="totals" aria-label={t("templateReview")}>
        {facts.map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <table className="compact" aria-label={t("byFunder")}>
        <tbody>
          {(["platform", "merchant", "supplier"] as const).map((k) => (
            <tr key={k}>
              <th scope="row">{t(k)}</th>
              <td className="num">{yuan(r.by_funder[k])}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>{t("daily")}</h3>
      {r.daily.length === 0 ? (
        <p className="muted">{t("noClaims")}</p>
      ) : (
        <BarChart labels={r.daily.map((d) => d.day)} series={[{ label: t("claimedN"), data: r.daily.map((d) => d.granted) }, { label: t("f_used"), data: r.daily.map((d) => d.used) }]} label={t("chartDaily", { n: r.daily.length })} height={200} />
      )}
      {slices(t("byRoute"), r.by_route, (k) => k)}
      {slices(t("byCampaign"), r.by_campaign, (k) => k || t("noCampaign"))}
    </section>
  );
}
