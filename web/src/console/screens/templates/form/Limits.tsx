// The form's stock and limits, distribution (投放方式) and funding (出资) sections.
import { TextField } from "../../../ui";
import { DISTRIBUTIONS } from "../types";
import { bind, Check, Group, toggle, type SectionProps } from "./fields";

export function LimitsSection(p: SectionProps) {
  const { t } = p;
  return (
    <section className="card" aria-labelledby="sec-limits">
      <h2 id="sec-limits">{t("sectionLimits")}</h2>
      <div className="row">
        <TextField {...bind(p, "stock", "stock")} />
        <TextField {...bind(p, "perUserLimit", "per_user_limit")} />
        <TextField {...bind(p, "perUserDailyLimit", "per_user_daily_limit")} />
      </div>
      <div className="row">
        <TextField {...bind(p, "claimFrom", "claim_window.from")} type="datetime-local" />
        <TextField {...bind(p, "claimUntil", "claim_window.until")} type="datetime-local" />
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

export function FundingSection(p: SectionProps) {
  const { err, t } = p;
  return (
    <section className="card" aria-labelledby="sec-funding">
      <h2 id="sec-funding">{t("sectionFunding")}</h2>
      <Group legend={t("funding")} error={err("funding")}>
        <div className="row">
          <TextField {...bind(p, "fundPlatform", "funding.platform_bp")} />
          <TextField {...bind(p, "fundMerchant", "funding.merchant_bp")} />
          <TextField {...bind(p, "fundSupplier", "funding.supplier_bp")} />
        </div>
      </Group>
      <TextField {...bind(p, "faceValue", "face_value")} />
    </section>
  );
}
