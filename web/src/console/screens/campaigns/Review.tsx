// A campaign's review (docs/DOMAIN.md section 9): the funnel, daily grants and uses, cost by
// funder, the forecast against what happened, and the holdout's uplift with its intervals. Each
// chart's numbers are in a table beside it; the whole review downloads as CSV.
import { useEffect, useState } from "react";
import type { Schemas } from "../../../shared/api";
import { useLang } from "../../../shared/i18n";
import { percent, ratio, yuan } from "../../../shared/money";
import { BarChart, DoughnutChart, IntervalChart } from "../../charts";
import { useApi, useSession } from "../../session";
import { ErrorBanner } from "../../ui";
import { when } from "../members/common";
import { fetchBlob, saveBlob } from "../templates/download";
import { useReview } from "./reviewMessages";

type Review = Schemas["CampaignReview"];
type T = ReturnType<typeof useReview>;

const FUNNEL = ["entered", "treated", "held_out", "messages_sent", "messages_delivered", "links_opened", "granted", "used"] as const;
const FUNDERS = ["platform", "merchant", "supplier"] as const;
/** The holdout's warnings this page has words for; another shows the API's message. */
const WARNINGS = ["sample_ratio_mismatch", "empty_arm", "small_arm"] as const;

/** `version` changes when the campaign's counters do: the review is read again. */
export function ReviewPanel({ id, version }: { id: string; version: number }) {
  const t = useReview();
  const l = useLang();
  const api = useApi();
  const { session } = useSession();
  const [review, setReview] = useState<Review | null>(null);
  const [error, setError] = useState<unknown>(null);
  const path = `/v1/campaigns/${encodeURIComponent(id)}/review`;

  useEffect(() => {
    let live = true;
    api<Review>("GET", path).then(
      (r) => live && (setReview(r), setError(null)),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [api, path, version]);

  async function csv() {
    try {
      saveBlob(await fetchBlob(session?.key ?? "", `${path}.csv`), `${id}-review.csv`);
    } catch (e) {
      setError(e);
    }
  }

  if (!review) return <ErrorBanner error={error} />;
  const f = review.funnel;
  const steps = FUNNEL.map((k) => ({ name: t(`f_${k}`), value: f[k] }));
  const c = review.cost;
  return (
    <section className="card review" aria-labelledby="cmp-review">
      <h2 id="cmp-review">{t("review")}</h2>
      <ErrorBanner error={error} />
      <p className="muted">
        {t("asOf", { at: when(review.as_of, l), d: review.attribution_days })}{" "}
        <button type="button" className="secondary" onClick={csv}>
          {t("csv")}
        </button>
      </p>

      <h3>{t("funnel")}</h3>
      <BarChart labels={steps.map((s) => s.name)} series={[{ label: t("count"), data: steps.map((s) => s.value) }]} label={t("chartFunnel", { list: steps.map((s) => `${s.name} ${s.value}`).join(", ") })} height={220} />
      <table className="compact" aria-label={t("funnel")}>
        <thead>
          <tr>
            <th scope="col">{t("step")}</th>
            <th scope="col" className="num">
              {t("count")}
            </th>
          </tr>
        </thead>
        <tbody>
          {steps.map((s) => (
            <tr key={s.name}>
              <th scope="row">{s.name}</th>
              <td className="num">{s.value}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h3>{t("daily")}</h3>
      {review.daily.length === 0 ? (
        <p className="muted">{t("noDays")}</p>
      ) : (
        <>
          <BarChart labels={review.daily.map((d) => d.day)} series={[{ label: t("f_granted"), data: review.daily.map((d) => d.granted) }, { label: t("f_used"), data: review.daily.map((d) => d.used) }, { label: t("returned"), data: review.daily.map((d) => d.returned) }]} label={t("chartDaily", { n: review.daily.length })} height={220} />
          <table className="compact" aria-label={t("daily")}>
            <thead>
              <tr>
                <th scope="col">{t("day")}</th>
                <th scope="col" className="num">
                  {t("f_granted")}
                </th>
                <th scope="col" className="num">
                  {t("f_used")}
                </th>
                <th scope="col" className="num">
                  {t("returned")}
                </th>
              </tr>
            </thead>
            <tbody>
              {review.daily.map((d) => (
                <tr key={d.day}>
                  <th scope="row">{d.day}</th>
                  <td className="num">{d.granted}</td>
                  <td className="num">{d.used}</td>
                  <td className="num">{d.returned}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}

      <h3>{t("cost")}</h3>
      <dl className="totals" aria-label={t("cost")}>
        <Fact name={t("faceGranted")} value={yuan(c.face_value_granted)} />
        <Fact name={t("faceUsed")} value={yuan(c.face_value_used)} />
        <Fact name={t("given")} value={yuan(c.discount_given)} />
        <Fact name={t("orders")} value={String(review.coupon_orders.count)} />
        <Fact name={t("gmv")} value={yuan(review.coupon_orders.gmv)} />
        <Fact name={t("roi")} value={ratio(review.roi_bp)} />
      </dl>
      <h4>{t("byFunder")}</h4>
      {c.discount_given === 0 ? (
        <p className="muted">{t("nothingGiven")}</p>
      ) : (
        <DoughnutChart labels={FUNDERS.map((k) => t(k))} data={FUNDERS.map((k) => c.by_funder[k])} label={t("chartFunder", { list: FUNDERS.map((k) => `${t(k)} ${yuan(c.by_funder[k])}`).join(", ") })} />
      )}
      <table className="compact" aria-label={t("byFunder")}>
        <tbody>
          {FUNDERS.map((k) => (
            <tr key={k}>
              <th scope="row">{t(k)}</th>
              <td className="num">{yuan(c.by_funder[k])}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <ForecastTable review={review} t={t} />
      <Uplift review={review} t={t} />
    </section>
  );
}

function Fact({ name, value }: { name: string; value: string }) {
  return (
    <div>
      <dt>{name}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function ForecastTable({ review, t }: { review: Review; t: T }) {
  const l = useLang();
  const fc = review.forecast;
  if (!fc)
    return (
      <>
        <h3>{t("forecast")}</h3>
        <p className="muted">{t("noForecast")}</p>
      </>
    );
  const a = fc.actual;
  const rate = fc.issued > 0 ? Math.floor((fc.expected_used * 10_000) / fc.issued) : null;
  const rows: [string, string, string][] = [
    [t("issued"), String(fc.issued), String(a.issued)],
    [t("usedN"), String(fc.expected_used), String(a.used)],
    [t("useRate"), rate != null ? percent(rate) : "—", a.use_bp != null ? percent(a.use_bp) : "—"],
    [t("useCost"), yuan(fc.use_cost), yuan(a.use_cost)],
    [t("output"), yuan(fc.expected_output), yuan(a.output)],
    [t("roiShort"), ratio(fc.expected_roi_bp), ratio(a.roi_bp)],
  ];
  const bases = [...new Set(fc.templates.map((x) => t(`b_${x.basis}`)))].join(", ");
  return (
    <>
      <h3>{t("forecast")}</h3>
      <p className="muted">
        {t("forecastAt", { at: when(fc.made_at, l) })} · {t("basis")}: {bases}
      </p>
      <table className="compact" aria-label={t("forecast")}>
        <thead>
          <tr>
            <th scope="col">{t("figure")}</th>
            <th scope="col" className="num">
              {t("expected")}
            </th>
            <th scope="col" className="num">
              {t("actual")}
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([name, e, v]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td className="num">{e}</td>
              <td className="num">{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Uplift({ review, t }: { review: Review; t: T }) {
  const h = review.holdout;
  if (!h)
    return (
      <>
        <h3>{t("uplift")}</h3>
        <p className="muted">{t("noHoldout")}</p>
      </>
    );
  // Each estimate with its interval: conversion in points, revenue in yuan per member.
  const rows: { name: string; est: string; lo: number; hi: number; show: (v: number) => string }[] = [];
  const conv = h.conversion_uplift_ci95_bp;
  if (h.conversion_uplift_bp != null && conv)
    rows.push({ name: t("convUplift"), est: percent(h.conversion_uplift_bp), lo: conv[0], hi: conv[1], show: percent });
  const rev = h.revenue_uplift_per_member_ci95;
  if (h.revenue_uplift_per_member != null && rev)
    rows.push({ name: t("revUplift"), est: yuan(h.revenue_uplift_per_member), lo: rev[0], hi: rev[1], show: yuan });
  if (h.cuped)
    rows.push({
      name: t("cupedUplift"),
      est: yuan(h.cuped.revenue_uplift_per_member),
      lo: h.cuped.revenue_uplift_per_member_ci95[0],
      hi: h.cuped.revenue_uplift_per_member_ci95[1],
      show: yuan,
    });
  const revenueRows = rows.filter((r) => r.show === yuan);
  return (
    <>
      <h3>{t("uplift")}</h3>
      <table className="compact" aria-label={t("uplift")}>
        <thead>
          <tr>
            <th scope="col">{t("arm")}</th>
            <th scope="col" className="num">
              {t("members")}
            </th>
            <th scope="col" className="num">
              {t("converted")}
            </th>
            <th scope="col" className="num">
              {t("revenue")}
            </th>
          </tr>
        </thead>
        <tbody>
          {(
            [
              [t("treatedArm"), h.treated],
              [t("controlArm"), h.control],
            ] as const
          ).map(([name, arm]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td className="num">{arm.members}</td>
              <td className="num">{arm.converted}</td>
              <td className="num">{yuan(arm.revenue)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length > 0 && (
        <table className="compact" aria-label={t("ci")}>
          <thead>
            <tr>
              <th scope="col">{t("figure")}</th>
              <th scope="col" className="num">
                {t("estimate")}
              </th>
              <th scope="col" className="num">
                {t("ci")}
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.name}>
                <th scope="row">{r.name}</th>
                <td className="num">{r.est}</td>
                <td className="num">
                  [{r.show(r.lo)}, {r.show(r.hi)}]
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {revenueRows.length > 0 && (
        <IntervalChart labels={revenueRows.map((r) => r.name)} lo={revenueRows.map((r) => r.lo / 100)} hi={revenueRows.map((r) => r.hi / 100)} unit="¥" label={t("chartUplift", { what: revenueRows.map((r) => r.name).join(", ") })} />
      )}
      <p>
        {h.incremental_revenue != null && t("incremental", { v: yuan(h.incremental_revenue), r: ratio(h.incremental_roi_bp) })}
        {h.srm_p_value != null && <> · {t("srm", { p: h.srm_p_value.toPrecision(3) })}</>}
      </p>
      {h.warnings.length > 0 && (
        <ul className="warnings">
          {h.warnings.map((w) => (
            <li key={w.code}>{WARNINGS.includes(w.code as (typeof WARNINGS)[number]) ? t(`w_${w.code as (typeof WARNINGS)[number]}`) : w.message}</li>
          ))}
        </ul>
      )}
    </>
  );
}
