// The campaign builder: trigger, audience, actions, frequency cap, budget, holdout, start and end,
// and the forecast of what it grants.
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { ApiError } from "../../../shared/api";
import { errorText } from "../../../shared/errors";
import { useLang } from "../../../shared/i18n";
import { useApi } from "../../session";
import { ErrorBanner, PageHeader, TextField } from "../../ui";
import { ActionFields } from "./ActionFields";
import { ForecastPanel } from "./ForecastPanel";
import { newDraft, toSpec, type CampaignDraft } from "./draft";
import { useCampaigns } from "./messages";
import { AudienceFields, TriggerFields } from "./TriggerFields";
import type { CampaignView } from "./types";
import { useChoices } from "./useChoices";

/** The API fields this form shows beside a control (the rest go to the banner). */
const PLACED = /^(name|trigger(\.(event|delay_hours|at|since|hours|weekdays(\[\d+\])?))?|audience(\.(segment_id|tiers|stages))?|actions(\[\d+\](\.(template_id|template_ids(\[\d+\])?|title|material|message|channel|text|link_template_id|budget|min_roi_bp|expected_use_bp))?)?|frequency_cap\.(count|days)|budget\.(count|amount)|holdout_bp|starts_at|ends_at)$/;

export function Builder() {
  const t = useCampaigns();
  const l = useLang();
  const api = useApi();
  const navigate = useNavigate();
  const choices = useChoices();
  const [draft, setDraft] = useState<CampaignDraft>(newDraft);
  const [tried, setTried] = useState(false);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const { spec, problems } = toSpec(draft);
  const local = tried ? Object.fromEntries(Object.entries(problems).map(([k, v]) => [k, t(v)])) : {};
  const errors = { ...local, ...serverErrors };
  const change = (d: CampaignDraft) => {
    setDraft(d);
    setServerErrors({});
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    setTried(true);
    setError(null);
    setServerErrors({});
    if (Object.keys(problems).length) return;
    setBusy(true);
    try {
      const c = await api<CampaignView>("POST", "/v1/campaigns", spec);
      navigate(`/campaigns/${encodeURIComponent(c.id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.field && PLACED.test(err.field)) setServerErrors({ [err.field]: errorText(err, l) });
      else setError(err);
    } finally {
      setBusy(false);
    }
  }

  const set = (patch: Partial<CampaignDraft>) => change({ ...draft, ...patch });
  const text = (k: keyof CampaignDraft, label: Parameters<typeof t>[0], path: string, type?: string) => (
    <TextField label={t(label)} value={draft[k] as string} onChange={(v) => set({ [k]: v })} error={errors[path]} type={type} />
  );

  return (
    <>
      <PageHeader title={t("newCampaign")}>
        <Link to="/campaigns">{t("back")}</Link>
      </PageHeader>
      <ErrorBanner error={choices.error} />
      <form onSubmit={submit} noValidate className="card">
        <TextField label={t("name")} value={draft.name} onChange={(v) => set({ name: v })} error={errors.name} required />
        <TriggerFields draft={draft} onChange={change} errors={errors} />
        <AudienceFields draft={draft} onChange={change} errors={errors} segments={choices.segments} />
        <ActionFields draft={draft} onChange={change} errors={errors} templates={choices.templates} />
        <fieldset className="box">
          <legend>{t("limits")}</legend>
          <div className="row">
            {text("cap_count", "capCount", "frequency_cap.count")}
            {text("cap_days", "capDays", "frequency_cap.days")}
            {text("holdout", "holdout", "holdout_bp")}
          </div>
          <div className="row">
            {text("budget_count", "budgetCount", "budget.count")}
            {text("budget_amount", "budgetAmount", "budget.amount")}
          </div>
          <div className="row">
            {text("starts_at", "startsAt", "starts_at", "datetime-local")}
            {text("ends_at", "endsAt", "ends_at", "datetime-local")}
          </div>
        </fieldset>
        <ForecastPanel spec={spec} templates={choices.templates} />
        <ErrorBanner error={error} />
        <button type="submit" disabled={busy}>
          {busy ? t("creating") : t("create")}
        </button>
      </form>
    </>
  );
}
