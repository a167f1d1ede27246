// The builder's trigger (event + delay, schedule, inactivity, once) and audience parts.
import { useLang } from "../../../shared/i18n";
import { RFM_TIERS, STAGES, stageText } from "../../../shared/words";
import { SelectField, TextField } from "../../ui";
import { CheckGroup } from "../segments/checks";
import type { SegmentView } from "../segments/types";
import type { CampaignDraft } from "./draft";
import { useCampaigns } from "./messages";
import { EVENTS } from "./types";

type Props = {
  draft: CampaignDraft;
  onChange(d: CampaignDraft): void;
  errors: Record<string, string>;
};

export function TriggerFields({ draft, onChange, errors }: Props) {
  const t = useCampaigns();
  const tr = draft.trigger;
  const set = (patch: Partial<CampaignDraft["trigger"]>) => onChange({ ...draft, trigger: { ...tr, ...patch } });
  return (
    <fieldset className="box">
      <legend>{t("trigger")}</legend>
      <div className="row">
        <SelectField
          label={t("triggerKind")}
          value={tr.kind}
          onChange={(v) => set({ kind: v as typeof tr.kind })}
          options={(["event", "schedule", "inactivity", "once"] as const).map((k) => ({ value: k, label: t(`t_${k}`) }))}
          error={errors.trigger}
        />
        {tr.kind === "event" && (
          <>
            <SelectField
              label={t("event")}
              value={tr.event}
              onChange={(v) => set({ event: v })}
              options={EVENTS.map((e) => ({ value: e, label: t(`e_${e}`) }))}
              error={errors["trigger.event"]}
            />
            <TextField label={t("delayHours")} value={tr.delay_hours} onChange={(v) => set({ delay_hours: v })} error={errors["trigger.delay_hours"]} />
          </>
        )}
        {tr.kind === "schedule" && (
          <TextField label={t("at")} value={tr.at} onChange={(v) => set({ at: v })} error={errors["trigger.at"]} placeholder="10:00" />
        )}
        {tr.kind === "inactivity" && (
          <>
            <SelectField
              label={t("since")}
              value={tr.since}
              onChange={(v) => set({ since: v as typeof tr.since })}
              options={[
                { value: "last_order", label: t("since_last_order") },
                { value: "joined", label: t("since_joined") },
              ]}
              error={errors["trigger.since"]}
            />
            <TextField label={t("hours")} value={tr.hours} onChange={(v) => set({ hours: v })} error={errors["trigger.hours"]} />
          </>
        )}
      </div>
      {tr.kind === "schedule" && (
        <CheckGroup
          legend={t("weekdays")}
          options={["1", "2", "3", "4", "5", "6", "7"]}
          picked={tr.weekdays}
          onChange={(w) => set({ weekdays: w })}
          text={(d) => t(`d${d}` as "d1")}
          error={errors["trigger.weekdays"] ?? Object.entries(errors).find(([k]) => k.startsWith("trigger.weekdays["))?.[1]}
        />
      )}
    </fieldset>
  );
}

export function AudienceFields({ draft, onChange, errors, segments }: Props & { segments: SegmentView[] }) {
  const t = useCampaigns();
  const l = useLang();
  const au = draft.audience;
  const set = (patch: Partial<CampaignDraft["audience"]>) => onChange({ ...draft, audience: { ...au, ...patch } });
  return (
    <fieldset className="box">
      <legend>{t("audience")}</legend>
      <div className="row">
        <SelectField
          label={t("audienceKind")}
          value={au.kind}
          onChange={(v) => set({ kind: v as typeof au.kind })}
          options={(["all", "segment", "tiers", "stages", "rfm_tiers"] as const).map((k) => ({ value: k, label: t(`a_${k}`) }))}
          error={errors.audience}
        />
        {au.kind === "segment" && (
          <SelectField
            label={t("segment")}
            value={au.segment_id}
            onChange={(v) => set({ segment_id: v })}
            options={[{ value: "", label: t("pickSegment") }, ...segments.map((s) => ({ value: s.id, label: `${s.name} (${s.id})` }))]}
            error={errors["audience.segment_id"]}
          />
        )}
        {au.kind === "tiers" && (
          <TextField label={t("tiers")} value={au.tiers} onChange={(v) => set({ tiers: v })} error={errors["audience.tiers"]} />
        )}
      </div>
      {au.kind === "stages" && (
        <CheckGroup
          legend={t("stages")}
          options={[...STAGES]}
          picked={au.stages}
          onChange={(s) => set({ stages: s })}
          text={(s) => stageText(s, l)}
          error={errors["audience.stages"]}
        />
      )}
      {au.kind === "rfm_tiers" && (
        <CheckGroup
          legend={t("rfmTiers")}
          options={[...RFM_TIERS]}
          picked={au.rfm_tiers}
          onChange={(s) => set({ rfm_tiers: s })}
          error={errors["audience.tiers"]}
        />
      )}
    </fieldset>
  );
}
