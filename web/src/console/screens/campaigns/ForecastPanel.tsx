// The forecast while a campaign is being built (the articles' 活动前预估): for each coupon it
// grants, what the audience is expected to use, cost and return (POST /v1/forecasts).
import { useState } from "react";
import type { Schemas } from "../../../shared/api";
import { percent, ratio, yuan } from "../../../shared/money";
import { useApi } from "../../session";
import { ErrorBanner } from "../../ui";
import type { TemplateView } from "../members/types";
import { useReview } from "./reviewMessages";
import type { CampaignSpec } from "./types";

type Forecast = Schemas["Forecast"];

/** The templates a campaign's actions grant. */
function granted(spec: CampaignSpec): string[] {
  return spec.actions.flatMap((a) => (a.kind === "grant" ? [a.template_id] : a.kind === "grant_pack" ? a.template_ids : [])).filter(Boolean);
}

export function ForecastPanel({ spec, templates }: { spec: CampaignSpec; templates: TemplateView[] }) {
  const t = useReview();
  const api = useApi();
  const [rows, setRows] = useState<Forecast[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const ids = granted(spec);
  const name = (id: string) => templates.find((x) => x.id === id)?.name ?? id;

  async function run() {
    setBusy(true);
    setError(null);
    try {
      const out: Forecast[] = [];
      for (const id of ids)
        out.push(await api<Forecast>("POST", "/v1/forecasts", { template_id: id, audience: spec.audience, holdout_bp: spec.holdout_bp ?? 0 }));
      setRows(out);
    } catch (e) {
      setError(e);
      setRows(null);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="box" aria-labelledby="builder-forecast">
      <h2 id="builder-forecast">{t("forecastTitle")}</h2>
      <p className="muted">{ids.length ? t("forecastHint") : t("forecastNeedsGrant")}</p>
      <button type="button" className="secondary" disabled={busy || ids.length === 0} onClick={run}>
        {t("forecastRun")}
      </button>
      <ErrorBanner error={error} />
      {rows && (
        <table className="compact" aria-label={t("forecastTitle")}>
          <thead>
            <tr>
              <th scope="col">{t("template")}</th>
              <th scope="col" className="num">{t("audienceN")}</th>
              <th scope="col" className="num">{t("issued")}</th>
              <th scope="col" className="num">{t("useRate")}</th>
              <th scope="col" className="num">{t("usedN")}</th>
              <th scope="col" className="num">{t("issueCost")}</th>
              <th scope="col" className="num">{t("useCost")}</th>
              <th scope="col" className="num">{t("output")}</th>
              <th scope="col" className="num">{t("roiShort")}</th>
              <th scope="col">{t("basis")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((f, i) => (
              <tr key={`${f.template_id}-${i}`}>
                <th scope="row">{name(f.template_id ?? "")}</th>
                <td className="num">{f.audience}</td>
                <td className="num">{f.issued}</td>
                <td className="num">{percent(f.expected_use_bp)}</td>
                <td className="num">{f.expected_used}</td>
                <td className="num">{yuan(f.issue_cost)}</td>
                <td className="num">{yuan(f.use_cost)}</td>
                <td className="num">{yuan(f.expected_output)}</td>
                <td className="num">{ratio(f.expected_roi_bp)}</td>
                <td>{t(`b_${f.basis}`)}{f.examples > 0 ? ` (${t("examples", { n: f.examples })})` : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
