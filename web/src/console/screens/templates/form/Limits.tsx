// The form's stock and limits, distribution (投放方式) and funding (出资) sections.
import { TextField } from "../../../ui";
import { DISTRIBUTIONS } from "../types";
import { Check, Group, toggle, type SectionProps } from "./fields";

export function LimitsSection({ s, set, err, t }: SectionProps) {
  return (
    <section className="card" aria-labelledby="sec-limits">
      <h2 id="sec-limits">{t("sectionLimits")}</h2>
      <div className="row">
        <TextField label={t("stock")} value={s.stock} onChange={(v) => set({ stock: v })} error={err("stock")} />
        <TextField label={t("perUserLimit")} value={s.perUserLimit} onChange={(v) => set({ perUserLimit: v })} error={err("per_user_limit")} />
        <TextField
          label={t("perUserDailyLimit")}
          value={s.perUserDailyLimit}
          onChange={(v) => set({ perUserDailyLimit: v })}
          error={err("per_user_daily_limit")}
        />
      </div>
      <div className="row">
        <TextField
          label={t("claimFrom")}
          type="datetime-local"
          value={s.claimFrom}
          onChange={(v) => set({ claimFrom: v })}
          error={err("claim_window.from")}
        />
        <TextField
          label={t("claimUntil")}
          type="datetime-local"
          value={s.claimUntil}
          onChange={(v) => set({ claimUntil: v })}
          error={err("claim_window.until")}
        />
      </div>
    </section>
  );
}

export function DistributionSection({ s, set, err, t }: SectionProps) {
  return (
    <section className="card" aria-labelledby="sec-dist">
      <h2 id="sec-dist">{t("sectionDistribution")}</h2>
      <Group legend={t("distribution")} error={err("distribution")}>
        {DISTRIBUTIONS.map((d) => (
          <Check
            key={d}
            label={t(`dist_${d}`)}
            checked={s.distribution.includes(d)}
            onChange={(on) => set({ distribution: toggle(s.distribution, d, on) })}
          />
        ))}
      </Group>
    </section>
  );
}

export function FundingSection({ s, set, err, t }: SectionProps) {
  return (
    <section className="card" aria-labelledby="sec-funding">
      <h2 id="sec-funding">{t("sectionFunding")}</h2>
      <Group legend={t("funding")} error={err("funding")}>
        <div className="row">
          <TextField label={t("fundPlatform")} value={s.fundPlatform} onChange={(v) => set({ fundPlatform: v })} error={err("funding.platform_bp")} />
          <TextField label={t("fundMerchant")} value={s.fundMerchant} onChange={(v) => set({ fundMerchant: v })} error={err("funding.merchant_bp")} />
          <TextField label={t("fundSupplier")} value={s.fundSupplier} onChange={(v) => set({ fundSupplier: v })} error={err("funding.supplier_bp")} />
        </div>
      </Group>
      <TextField label={t("faceValue")} value={s.faceValue} onChange={(v) => set({ faceValue: v })} error={err("face_value")} />
    </section>
  );
}
