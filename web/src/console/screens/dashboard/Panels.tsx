// The Dashboard's member panels: RFM tiers (doughnut) and lifecycle stages (bar), each with its numbers in a table.
import { localDay } from "../../../shared/dates";
import { useLang } from "../../../shared/i18n";
import { RFM_TIERS, STAGES, stageText } from "../../../shared/words";
import { BarChart, DoughnutChart } from "../../charts";
import { useT } from "./messages";

export function RfmPanel({ tiers, asOf }: { tiers: { tier?: string | null; members: number }[]; asOf?: string | null }) {
  const t = useT();
  const l = useLang();
  const order: (string | null)[] = [...RFM_TIERS, null];
  const rows = [...tiers].sort((a, b) => order.indexOf(a.tier ?? null) - order.indexOf(b.tier ?? null));
  const labels = rows.map((r) => r.tier ?? t("tierNone"));
  const list = rows.map((r, i) => `${labels[i]} ${r.members.toLocaleString()}`).join(", ");
  return (
    <section className="card" aria-labelledby="rfm-title">
      <h2 id="rfm-title">{t("rfmTitle")}</h2>
      {asOf && <p className="muted">{t("rfmAsOf", { day: localDay(asOf, l) })}</p>}
      {rows.every((r) => r.members === 0) ? <p className="muted">{t("noMembers")}</p> : <DoughnutChart labels={labels} data={rows.map((r) => r.members)} label={t("chartRfm", { list })} />}
      {rows.length > 0 && <NumbersTable head={[t("tier"), t("members")]} rows={rows.map((r, i) => [labels[i], r.members])} caption={t("rfmTitle")} />}
    </section>
  );
}

export function StagesPanel({ stages }: { stages: { stage: string; members: number }[] }) {
  const t = useT();
  const l = useLang();
  const order: string[] = STAGES;
  const rank = (s: string) => (order.includes(s) ? order.indexOf(s) : order.length);
  const rows = [...stages].sort((a, b) => rank(a.stage) - rank(b.stage));
  const labels = rows.map((r) => stageText(r.stage, l));
  const list = rows.map((r, i) => `${labels[i]} ${r.members.toLocaleString()}`).join(", ");
  return (
    <section className="card" aria-labelledby="stages-title">
      <h2 id="stages-title">{t("stagesTitle")}</h2>
      {rows.every((r) => r.members === 0) ? <p className="muted">{t("noMembers")}</p> : <BarChart labels={labels} series={[{ label: t("members"), data: rows.map((r) => r.members) }]} label={t("chartStages", { list })} height={240} />}
      {rows.length > 0 && <NumbersTable head={[t("stage"), t("members")]} rows={rows.map((r, i) => [labels[i], r.members])} caption={t("stagesTitle")} />}
    </section>
  );
}

function NumbersTable(props: { head: [string, string]; rows: [string, number][]; caption: string }) {
  return (
    <table className="compact">
      <caption className="sr-only">{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">{props.head[0]}</th>
          <th scope="col" className="num">
            {props.head[1]}
          </th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td className="num">{v.toLocaleString()}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
