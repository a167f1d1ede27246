// The form's validity (使用时间), audience (使用对象) and channel / region (渠道与地区) sections.
import { SelectField, TextField } from "../../../ui";
import { CHANNELS } from "../types";
import { Check, Group, toggle, type SectionProps } from "./fields";
import type { AudienceKind } from "./model";

const AUDIENCES: AudienceKind[] = ["all", "new", "returning", "tiers", "segment", "users", "new_members"];

export function ValiditySection({ s, set, err, t }: SectionProps) {
  return (
    <section className="card" aria-labelledby="sec-validity">
      <h2 id="sec-validity">{t("sectionValidity")}</h2>
      <SelectField
        label={t("validityKind")}
        value={s.validityKind}
        onChange={(v) => set({ validityKind: v as "relative" | "fixed" })}
        options={[
          { value: "relative", label: t("validity_relative") },
          { value: "fixed", label: t("validity_fixed") },
        ]}
        error={err("validity.kind")}
      />
      {s.validityKind === "relative" ? (
        <div className="row">
          <TextField label={t("days")} value={s.days} onChange={(v) => set({ days: v })} error={err("validity.days")} />
          <Check label={t("fromNextDay")} checked={s.fromNextDay} onChange={(v) => set({ fromNextDay: v })} />
        </div>
      ) : (
        <div className="row">
          <TextField
            label={t("validFrom")}
            type="datetime-local"
            value={s.validFrom}
            onChange={(v) => set({ validFrom: v })}
            error={err("validity.valid_from")}
          />
          <TextField
            label={t("validUntil")}
            type="datetime-local"
            value={s.validUntil}
            onChange={(v) => set({ validUntil: v })}
            error={err("validity.valid_until")}
          />
        </div>
      )}
      <TextField label={t("usableHours")} value={s.usableHours} onChange={(v) => set({ usableHours: v })} error={err("usable_hours")} />
      <Group legend={t("usableWeekdays")} error={err("usable_weekdays")}>
        {[1, 2, 3, 4, 5, 6, 7].map((d) => (
          <Check
            key={d}
            label={t(`weekday_${d}` as "weekday_1")}
            checked={s.usableWeekdays.includes(d)}
            onChange={(on) => set({ usableWeekdays: toggle(s.usableWeekdays, d, on) })}
          />
        ))}
      </Group>
      <TextField
        label={t("usableOnOrders")}
        value={s.usableOnOrders}
        onChange={(v) => set({ usableOnOrders: v })}
        error={err("usable_on_orders")}
      />
      <Check
        label={t("excludesActivityPrice")}
        checked={s.excludesActivityPrice}
        onChange={(v) => set({ excludesActivityPrice: v })}
      />
    </section>
  );
}

export function AudienceSection({ s, set, err, t }: SectionProps) {
  return (
    <section className="card" aria-labelledby="sec-audience">
      <h2 id="sec-audience">{t("sectionAudience")}</h2>
      <SelectField
        label={t("audienceKind")}
        value={s.audienceKind}
        onChange={(v) => set({ audienceKind: v as AudienceKind })}
        options={AUDIENCES.map((k) => ({ value: k, label: t(`audience_${k}`) }))}
        error={err("audience.kind")}
      />
      {s.audienceKind === "tiers" && (
        <TextField label={t("audienceTiers")} value={s.audienceTiers} onChange={(v) => set({ audienceTiers: v })} error={err("audience.tiers")} />
      )}
      {s.audienceKind === "segment" && (
        <TextField label={t("segmentId")} value={s.segmentId} onChange={(v) => set({ segmentId: v })} error={err("audience.segment_id")} />
      )}
      {s.audienceKind === "users" && (
        <TextField label={t("userIds")} value={s.userIds} onChange={(v) => set({ userIds: v })} error={err("audience.user_ids")} />
      )}
      {s.audienceKind === "new_members" && (
        <TextField label={t("withinDays")} value={s.withinDays} onChange={(v) => set({ withinDays: v })} error={err("audience.within_days")} />
      )}
    </section>
  );
}

export function ReachSection({ s, set, err, t }: SectionProps) {
  return (
    <section className="card" aria-labelledby="sec-reach">
      <h2 id="sec-reach">{t("sectionReach")}</h2>
      <Group legend={t("channels")} error={err("channels")}>
        <Check label={t("allChannels")} checked={s.allChannels} onChange={(v) => set({ allChannels: v })} />
        {!s.allChannels &&
          CHANNELS.map((c) => (
            <Check
              key={c}
              label={t(`channel_${c}`)}
              checked={s.channels.includes(c)}
              onChange={(on) => set({ channels: toggle(s.channels, c, on) })}
            />
          ))}
      </Group>
      <Group legend={t("regionsLegend")} error={s.allRegions ? err("regions") : null}>
        <Check label={t("allRegions")} checked={s.allRegions} onChange={(v) => set({ allRegions: v })} />
      </Group>
      {!s.allRegions && (
        <TextField label={t("regions")} value={s.regions} onChange={(v) => set({ regions: v })} error={err("regions")} />
      )}
    </section>
  );
}
