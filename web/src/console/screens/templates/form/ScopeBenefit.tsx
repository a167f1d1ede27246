// The form's scope (使用范围) and benefit (优惠内容) sections.
import type { ReactNode } from "react";
import { SelectField, TextField } from "../../../ui";
import { rateBp } from "./body";
import { bind, type SectionProps } from "./fields";
import { fundingFor, rateText, type BenefitKind, type FormState, type RateUnit, type ScopeKind } from "./model";

const SCOPES: ScopeKind[] = ["platform", "store", "category", "product"];
const BENEFITS: BenefitKind[] = ["reduction", "percent", "tiered", "gift", "free_shipping"];

export function ScopeSection(p: SectionProps) {
  const { s, set, err, t } = p;
  function kind(k: ScopeKind) {
    const was = fundingFor(s.scopeKind);
    const untouched =
      was.fundPlatform === s.fundPlatform && was.fundMerchant === s.fundMerchant && was.fundSupplier === s.fundSupplier;
    set({ scopeKind: k, ...(untouched ? fundingFor(k) : {}) });
  }
  return (
    <section className="card" aria-labelledby="sec-scope">
      <h2 id="sec-scope">{t("sectionScope")}</h2>
      <SelectField
        label={t("scopeKind")}
        value={s.scopeKind}
        onChange={(v) => kind(v as ScopeKind)}
        options={SCOPES.map((k) => ({ value: k, label: t(`scope_${k}`) }))}
        error={err("scope.kind")}
      />
      {s.scopeKind !== "platform" && <TextField {...bind(p, "storeId", "scope.store_id")} />}
      {(s.scopeKind === "platform" || s.scopeKind === "category") && (
        <TextField
          label={t(s.scopeKind === "platform" ? "platformCategories" : "categories")}
          value={s.categories}
          onChange={(v) => set({ categories: v })}
          error={err("scope.categories")}
        />
      )}
      {s.scopeKind === "product" && <TextField {...bind(p, "skus", "scope.skus")} />}
    </section>
  );
}

/** Re-expresses every typed rate when the unit changes (8.5 折 ⇄ 15 % off). */
function convertRates(s: FormState, unit: RateUnit): Partial<FormState> {
  const conv = (text: string) => {
    const bp = rateBp({}, "", text, s.rateUnit);
    return bp === undefined ? text : rateText(bp, unit);
  };
  return { rateUnit: unit, rate: conv(s.rate), tiers: s.tiers.map((x) => ({ ...x, rate: conv(x.rate) })) };
}

export function BenefitSection(p: SectionProps) {
  const { s, set, err, t } = p;
  const rateLabel = t(s.rateUnit === "zhe" ? "rateZhe" : "rateOff");
  const unit = (
    <SelectField
      label={t("rateUnit")}
      value={s.rateUnit}
      onChange={(v) => set(convertRates(s, v as RateUnit))}
      options={[
        { value: "zhe", label: t("unit_zhe") },
        { value: "off", label: t("unit_off") },
      ]}
    />
  );
  const threshold = (
    <TextField {...bind(p, "threshold", "benefit.threshold")} />
  );
  return (
    <section className="card" aria-labelledby="sec-benefit">
      <h2 id="sec-benefit">{t("sectionBenefit")}</h2>
      <SelectField
        label={t("benefitKind")}
        value={s.benefitKind}
        onChange={(v) => set({ benefitKind: v as BenefitKind })}
        options={BENEFITS.map((k) => ({ value: k, label: t(`benefit_${k}`) }))}
        error={err("benefit.kind")}
      />
      {s.benefitKind === "reduction" && (
        <div className="row">
          {threshold}
          <TextField {...bind(p, "off", "benefit.off")} />
        </div>
      )}
      {s.benefitKind === "percent" && (
        <>
          <div className="row">
            <SelectField
              label={t("percentCond")}
              value={s.percentCond}
              onChange={(v) => set({ percentCond: v as FormState["percentCond"] })}
              options={(["none", "amount", "items"] as const).map((k) => ({ value: k, label: t(`cond_${k}`) }))}
            />
            {s.percentCond === "amount" && <TextField {...bind(p, "minAmount", "benefit.min_amount")} />}
            {s.percentCond === "items" && <TextField {...bind(p, "minItems", "benefit.min_items")} />}
          </div>
          <div className="row">
            {unit}
            <TextField label={rateLabel} value={s.rate} onChange={(v) => set({ rate: v })} error={err("benefit.rate_bp")} />
            <TextField {...bind(p, "cap", "benefit.cap")} />
          </div>
        </>
      )}
      {s.benefitKind === "tiered" && <Tiers {...p} unit={unit} rateLabel={rateLabel} />}
      {s.benefitKind === "gift" && (
        <div className="row">
          {threshold}
          <TextField {...bind(p, "giftSku", "benefit.gift_sku")} />
        </div>
      )}
      {s.benefitKind === "free_shipping" && (
        <div className="row">
          {threshold}
          <TextField label={t("shippingCap")} value={s.cap} onChange={(v) => set({ cap: v })} error={err("benefit.cap")} />
        </div>
      )}
    </section>
  );
}

function Tiers({ s, set, err, t, unit, rateLabel }: SectionProps & { unit: ReactNode; rateLabel: string }) {
  const edit = (i: number, patch: Partial<FormState["tiers"][number]>) =>
    set({ tiers: s.tiers.map((x, j) => (j === i ? { ...x, ...patch } : x)) });
  return (
    <>
      {unit}
      <h3 className="sub">{t("tiers")}</h3>
      {err("benefit.tiers") && (
        <p className="error" role="alert">
          {err("benefit.tiers")}
        </p>
      )}
      {s.tiers.map((x, i) => (
        <div className="row tier" key={i}>
          <TextField
            label={t("tierMinItems", { n: i + 1 })}
            value={x.minItems}
            onChange={(v) => edit(i, { minItems: v })}
            error={err(`benefit.tiers[${i}].min_items`)}
          />
          <TextField
            label={`${rateLabel} · ${t("tierN", { n: i + 1 })}`}
            value={x.rate}
            onChange={(v) => edit(i, { rate: v })}
            error={err(`benefit.tiers[${i}].rate_bp`)}
          />
          <button
            type="button"
            className="secondary"
            disabled={s.tiers.length === 1}
            onClick={() => set({ tiers: s.tiers.filter((_, j) => j !== i) })}
          >
            {t("removeTier", { n: i + 1 })}
          </button>
        </div>
      ))}
      <button
        type="button"
        className="secondary"
        onClick={() => set({ tiers: [...s.tiers, { minItems: String(Number(s.tiers.at(-1)?.minItems || 1) + 1), rate: "" }] })}
      >
        {t("addTier")}
      </button>
    </>
  );
}
