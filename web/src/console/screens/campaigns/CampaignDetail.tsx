// One campaign: status changes, progress (stats, the allocation report), its review, definition, members.
import { useCallback, useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { useLang } from "../../../shared/i18n";
import { yuan } from "../../../shared/money";
import { useApi } from "../../session";
import { Badge, ErrorBanner, PageHeader } from "../../ui";
import { useCommon, when } from "../members/common";
import { useTemplates } from "../members/useTemplates";
import { CampaignMembers } from "./CampaignMembers";
import { useCampaigns } from "./messages";
import { AllocationPanel, Definition } from "./Definition";
import { ReviewPanel } from "./Review";
import type { CampaignAction, CampaignView } from "./types";

type Move = CampaignAction;

export function CampaignDetail() {
  const { id = "" } = useParams();
  const t = useCampaigns();
  const c = useCommon();
  const l = useLang();
  const api = useApi();
  const [campaign, setCampaign] = useState<CampaignView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [confirmEnd, setConfirmEnd] = useState(false);
  const path = `/v1/campaigns/${encodeURIComponent(id)}`;

  const load = useCallback(
    () =>
      api<CampaignView>("GET", path)
        .then((v) => {
          setCampaign(v);
          setError(null);
        })
        .catch(setError),
    [api, path],
  );
  useEffect(() => {
    load();
  }, [load]);
  // While it runs, its counters move: look again every few seconds.
  useEffect(() => {
    if (campaign?.status !== "active") return;
    const timer = setInterval(load, 3000);
    return () => clearInterval(timer);
  }, [campaign?.status, load]);

  async function move(m: Move) {
    setBusy(true);
    setError(null);
    setConfirmEnd(false);
    try {
      setCampaign(await api<CampaignView>("POST", `${path}/${m}`));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const templateIds = campaign
    ? campaign.actions.flatMap((a) =>
        "template_ids" in a ? a.template_ids : "template_id" in a && a.template_id ? [a.template_id] : [],
      )
    : [];
  const templates = useTemplates([...templateIds, ...Object.keys(campaign?.allocation?.by_template ?? {})]);

  if (!campaign)
    return (
      <>
        <ErrorBanner error={error} />
        {!error && <p>{c("loading")}</p>}
      </>
    );
  const s = campaign.stats;
  // The status changes its status allows, as the API answers them.
  const moves: Move[] = campaign.allowed_actions;
  return (
    <>
      <PageHeader title={campaign.name}>
        <Badge value={campaign.status} label={t(`s_${campaign.status}`)} />
        {moves.map((m) =>
          m === "end" ? (
            <button key={m} type="button" className="secondary" disabled={busy} onClick={() => setConfirmEnd(true)}>
              {t("end")}
            </button>
          ) : (
            <button key={m} type="button" disabled={busy} onClick={() => move(m)}>
              {t(m)}
            </button>
          ),
        )}
        <button type="button" className="secondary" onClick={load}>
          {t("refresh")}
        </button>
        <Link to="/campaigns">{t("back")}</Link>
      </PageHeader>
      {confirmEnd && (
        <div className="banner" role="alertdialog" aria-labelledby="end-q">
          <span id="end-q">{t("endConfirm")}</span>{" "}
          <button type="button" onClick={() => move("end")}>
            {t("end")}
          </button>{" "}
          <button type="button" className="secondary" onClick={() => setConfirmEnd(false)}>
            {t("cancel")}
          </button>
        </div>
      )}
      <ErrorBanner error={error} />
      <p className="muted">
        {campaign.id}
        {campaign.activated_at && ` · ${t("activatedAt", { at: when(campaign.activated_at, l) })}`}
        {campaign.trigger_at && ` · ${t("nextTick", { at: when(campaign.trigger_at, l) })}`}
        {campaign.end_reason && ` · ${t("endReason", { reason: t(`r_${campaign.end_reason}` as "r_operator") })}`}
      </p>
      <section className="card" aria-labelledby="cmp-progress">
        <h2 id="cmp-progress">{t("progress")}</h2>
        <dl className="totals">
          {(["entered", "treated", "held_out", "pending", "granted"] as const).map((k) => (
            <div key={k}>
              <dt>{t(k)}</dt>
              <dd>{s[k]}</dd>
            </div>
          ))}
          <div>
            <dt>{t("spent")}</dt>
            <dd>{yuan(s.spent)}</dd>
          </div>
        </dl>
        {campaign.warnings.length > 0 && (
          <>
            <h3>{t("warnings")}</h3>
            <ul>
              {campaign.warnings.map((w) => (
                <li key={`${w.code}-${w.field}`}>
                  {w.code === "pack_over_cac" ? t("w_pack_over_cac") : w.message} ({w.field})
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      {campaign.status !== "draft" && <ReviewPanel id={id} version={s.entered + s.granted + s.treated + s.held_out} />}
      {campaign.allocation && <AllocationPanel report={campaign.allocation} templates={templates} />}
      <Definition campaign={campaign} templates={templates} />
      <CampaignMembers id={id} version={s.entered + s.treated + s.held_out + s.pending} />
    </>
  );
}
