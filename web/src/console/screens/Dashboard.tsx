// The Dashboard (`/console/`): the period's templates (table and bar chart), today's claims, RFM tiers and stages.
import { useEffect, useState } from "react";
import { Link } from "react-router";
import type { Schemas } from "../../shared/api";
import { localDay } from "../../shared/dates";
import { useLang } from "../../shared/i18n";
import { Table } from "../list";
import { useApi } from "../session";
import { Badge, ErrorBanner, PageHeader, SelectField } from "../ui";
import { BarChart } from "../charts";
import { useT } from "./dashboard/messages";
import { RfmPanel, StagesPanel } from "./dashboard/Panels";
import "./dashboard/dashboard.css";

/** A template's counts, in the order the chart and the table show them. */
const COUNTS = ["issued", "claimed", "used"] as const;

type Dash = Schemas["Dashboard"];

const PERIODS = ["7", "30", "90"] as const;
const CHART_TOP = 20;
const TABLE_FIRST = 50;

export default function Dashboard() {
  const api = useApi();
  const l = useLang();
  const t = useT();
  const [days, setDays] = useState<(typeof PERIODS)[number]>("30");
  const [dash, setDash] = useState<Dash | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [all, setAll] = useState(false);

  useEffect(() => {
    let live = true;
    setError(null);
    api<Dash>("GET", `/v1/dashboard?days=${days}`).then(
      (d) => live && setDash(d),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [api, days]);

  const period = t(`days_${days}`);
  const date = (s: string) => localDay(s, l);
  const top = dash ? [...dash.templates].sort((a, b) => b.period.issued - a.period.issued).slice(0, CHART_TOP) : [];
  const rows = dash ? (all ? dash.templates : dash.templates.slice(0, TABLE_FIRST)) : [];
  return (
    <div className="dashboard">
      <PageHeader title={t("title")}>
        <SelectField
          label={t("period")}
          value={days}
          onChange={(v) => setDays(v as (typeof PERIODS)[number])}
          options={PERIODS.map((d) => ({ value: d, label: t(`days_${d}`) }))}
        />
      </PageHeader>
      <ErrorBanner error={error} />
      {!dash ? (
        !error && <p>{t("loading")}</p>
      ) : (
        <>
          <p className="muted">{t("range", { from: date(dash.from), to: date(dash.to) })}</p>
          <div className="grid">
            <section className="card big-number" aria-labelledby="today-title">
              <h2 id="today-title">{t("claimsToday")}</h2>
              <p>
                <span className="num">{dash.claims_today.toLocaleString()}</span> {t("claimsTodayUnit")}
              </p>
            </section>
            {dash.rfm_tiers && <RfmPanel tiers={dash.rfm_tiers} asOf={dash.rfm_as_of} />}
            {dash.stages && <StagesPanel stages={dash.stages} />}
          </div>
          <section className="card" aria-labelledby="tpl-title">
            <h2 id="tpl-title">{t("templatesTitle")}</h2>
            {dash.templates.length === 0 ? (
              <p className="muted">{t("noTemplates")}</p>
            ) : (
              <>
                <BarChart
                  labels={top.map((x) => x.name)}
                  series={COUNTS.map((k) => ({ label: t(k), data: top.map((x) => x.period[k]) }))}
                  label={t("chartTemplates", { period, n: top.length })}
                />
                <div className="table-scroll">
                  <Table
                    caption={t("tableCaption", { period })}
                    cols={[
                      t("name"),
                      t("status"),
                      ...COUNTS.map((k) => [t("periodCol", { what: t(k) }), "num"] as const),
                      ...COUNTS.map((k) => [t("totalCol", { what: t(k) }), "num"] as const),
                      [t("stock"), "num"],
                    ]}
                    items={rows}
                    row={(x) => (
                      <tr key={x.id}>
                        <th scope="row">
                          <Link to={`/templates/${encodeURIComponent(x.id)}`}>{x.name}</Link>
                        </th>
                        <td>
                          <Badge value={x.status} label={t(`status_${x.status}`)} />
                        </td>
                        {COUNTS.map((k) => (
                          <td className="num" key={`p-${k}`}>{x.period[k].toLocaleString()}</td>
                        ))}
                        {COUNTS.map((k) => (
                          <td className="num" key={`a-${k}`}>{x[k].toLocaleString()}</td>
                        ))}
                        <td className="num">{x.stock == null ? t("unlimited") : x.stock.toLocaleString()}</td>
                      </tr>
                    )}
                  />
                </div>
                {!all && dash.templates.length > TABLE_FIRST && (
                  <button type="button" className="secondary" onClick={() => setAll(true)}>
                    {t("showAll", { n: dash.templates.length })}
                  </button>
                )}
              </>
            )}
          </section>
        </>
      )}
    </div>
  );
}
