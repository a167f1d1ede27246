// The form's validity (使用时间), audience (使用对象) and channel / region (渠道与地区) sections.
import { useLang } from "../../../../shared/i18n";
import { CHANNELS, WEEKDAYS, channelText, weekdayText } from "../../../../shared/words";
import { SelectField, TextField } from "../../../ui";
import { bind, Check, Group, toggle, type SectionProps } from "./fields";
import type { AudienceKind } from "./model";

const AUDIENCES: AudienceKind[] = ["all", "new", "returning", "tiers", "segment", "users", "new_members"];

export function ValiditySection(p: SectionProps) {
  const { s, set, err, t } = p;
  const l = useLang();
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
          <TextField {...bind(p, "days", "validity.days")} />
          <Check label={t("fromNextDay")} checked={s.fromNextDay} onChange={(v) => set({ fromNextDay: v })} />
        </div>
      ) : (
        <div className="row">
          <TextField {...bind(p, "validFrom", "validity.valid_from")} type="datetime-local" />
          <TextField {...bind(p, "validUntil", "validity.valid_until")} type="datetime-local" />
        </div>
      )}
      <TextField {...bind(p, "usableHours", "usable_hours")} />
      <Group legend={t("usableWeekdays")} error={err("usable_weekdays")}>
        {WEEKDAYS.map((d) => (
          <Check
            key={d}
            label={weekdayText(d, l)}
            checked={s.usableWeekdays.includes(d)}
            onChange={(on) => set({ usableWeekdays: toggle(s.usableWeekdays, d, on) })}
          />
        ))}
      </Group>
      <TextField {...bind(p, "usableOnOrders", "usable_on_orders")} />
      <Check
        label={t("excludesActivityPrice")}
        checked={s.excludesActivityPrice}
        onChange={(v) => set({ excludesActivityPrice: v })}
      />
    </section>
  );
}

export function AudienceSection(p: SectionProps) {
  const { s, set, err, t } = p;
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
      {s.audienceKind === "tiers" && <TextField {...bind(p, "audienceTiers", "audience.tiers")} />}
      {s.audienceKind === "segment" && <TextField {...bind(p, "segmentId", "audience.segment_id")} />}
      {s.audienceKind === "users" && <TextField {...bind(p, "userIds", "audience.user_ids")} />}
      {s.audienceKind === "new_members" && <TextField {...bind(p, "withinDays", "audience.within_days")} />}
    </section>
  );
}

export function ReachSection(p: SectionProps) {
  const { s, set, err, t } = p;
  const l = useLang();
  return (
    <section className="card" aria-labelledby="sec-reach">
      <h2 id="sec-reach">{t("sectionReach")}</h2>
      <Group legend={t("channels")} error={err("channels")}>
        <Check label={t("allChannels")} checked={s.allChannels} onChange={(v) => set({ allChannels: v })} />
        {!s.allChannels &&
          CHANNELS.map((c) => (
            <Check
              key={c}
              label={channelText(c, l)}
              checked={s.channels.includes(c)}
              onChange={(on) => set({ channels: toggle(s.channels, c, on) })}
            />
          ))}
      </Group>
      <Group legend={t("regionsLegend")} error={s.allRegions ? err("regions") : null}>
        <Check label={t("allRegions")} checked={s.allRegions} onChange={(v) => set({ allRegions: v })} />
      </Group>
      {!s.allRegions && <TextField {...bind(p, "regions", "regions")} />}
    </section>
  );
}
