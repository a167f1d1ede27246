// A campaign's definition in words, and an allocating campaign's allocation report.
import { useLang } from "../../../shared/i18n";
import { yuan } from "../../../shared/money";
import { channelText } from "../../../shared/words";
import { when } from "../members/common";
import type { TemplateView } from "../members/types";
import { useCampaigns } from "./messages";
import { audienceText, triggerText } from "./summary";
import type { Action, AllocationReport, CampaignView } from "./types";

type Templates = Record<string, TemplateView>;

export function Definition({ campaign, templates }: { campaign: CampaignView; templates: Templates }) {
  const t = useCampaigns();
  const l = useLang();
  const name = (id: string) => templates[id]?.name ?? id;
  const action = (a: Action): string => {
    switch (a.kind) {
      case "grant":
        return t("grantOne", { t: name(a.template_id) });
      case "grant_pack":
        return t("grantPack", { t: a.template_ids.map(name).join(", ") });
      case "task":
        return t("taskIs", { title: a.title }) + (a.template_id ? ` · ${name(a.template_id)}` : "");
      case "message":
        return t("messageIs", { channel: channelText(a.channel, l), text: a.text });
      case "allocate":
        return t("allocateIs", { budget: yuan(a.budget), t: a.template_ids.map(name).join(", ") });
    }
  };
  const b = campaign.budget;
  const budget = b
    ? [b.count != null ? t("budgetCountIs", { n: b.count }) : null, b.amount != null ? yuan(b.amount) : null].filter(Boolean).join(" · ")
    : t("none");
  return (
    <section className="card" aria-labelledby="cmp-def">
      <h2 id="cmp-def">{t("definition")}</h2>
      <dl className="facts">
        <dt>{t("trigger")}</dt>
        <dd>{triggerText(campaign.trigger, t)}</dd>
        <dt>{t("audience")}</dt>
        <dd>{audienceText(campaign.audience, t, l)}</dd>
        <dt>{t("actions")}</dt>
        <dd>
          <ul className="plain">
            {campaign.actions.map((a, i) => (
              <li key={i}>{action(a)}</li>
            ))}
          </ul>
        </dd>
        <dt>{t("limits")}</dt>
        <dd>
          {campaign.frequency_cap ? t("capIs", { c: campaign.frequency_cap.count, d: campaign.frequency_cap.days }) : t("none")}
          {" · "}
          {t("budgetIs", { v: budget })}
          {" · "}
          {t("holdoutIs", { p: (campaign.holdout_bp ?? 0) / 100 })}
        </dd>
        <dt>{t("starts")}</dt>
        <dd>{when(campaign.starts_at, l)}</dd>
        <dt>{t("ends")}</dt>
        <dd>{when(campaign.ends_at, l)}</dd>
      </dl>
    </section>
  );
}

export function AllocationPanel({ report, templates }: { report: AllocationReport; templates: Templates }) {
  const t = useCampaigns();
  const r = report;
  return (
    <section className="card" aria-labelledby="cmp-alloc">
      <h2 id="cmp-alloc">{t("allocation")}</h2>
      <dl className="facts">
        <dt>{t("modelKind")}</dt>
        <dd>
          {t(r.model.kind === "trained" ? "m_trained" : "m_rates")} · {t("examples", { n: r.model.examples, p: r.model.positives })}
          {r.model.auc != null && ` · ${t("auc")} ${r.model.auc.toFixed(4)}`}
        </dd>
        <dt>{t("members")}</dt>
        <dd>{t("allocMembers", { n: r.members, c: r.chosen })}</dd>
        <dt>{t("objective")}</dt>
        <dd>{yuan(Math.round(r.objective))}</dd>
        <dt>{t("allocSpend")}</dt>
        <dd>{yuan(Math.round(r.spend))}</dd>
        <dt>{t("upperBound")}</dt>
        <dd>{yuan(Math.round(r.upper_bound))}</dd>
        <dt>{t("gap")}</dt>
        <dd>{(r.gap * 100).toFixed(2)}%</dd>
      </dl>
      <h3>{t("byTemplate")}</h3>
      <ul>
        {Object.entries(r.by_template).map(([id, n]) => (
          <li key={id}>
            {templates[id]?.name ?? id}: {n}
          </li>
        ))}
      </ul>
    </section>
  );
}
