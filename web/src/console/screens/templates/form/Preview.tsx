// The live preview beside the form: the coupon as a member would see it, from what is typed so far.
import { useLang, type Lang } from "../../../../shared/i18n";
import { shortYuan } from "../../../../shared/money";
import { benefitText, scopeText, termsLine, validityText, type Benefit } from "../../../../shared/terms";
import { benefitOf, scopeOf, validityOf, type LocalErrors } from "./body";
import { shownValidity } from "../local";
import type { FormState } from "./model";
import { useFormT } from "./messages";

/** The big value on the coupon's left: "¥10", "8.5折", "包邮". */
export function faceText(b: Benefit, l: Lang): string {
  const en = l === "en";
  const rate = (bp: number) => (en ? `${(10000 - bp) / 100}% off` : `${bp / 1000}折`);
  switch (b.kind) {
    case "reduction":
      return `¥${shortYuan(b.off)}`;
    case "percent":
      return rate(b.rate_bp);
    case "tiered":
      return b.tiers.length ? rate(b.tiers[b.tiers.length - 1].rate_bp) : "";
    case "gift":
      return en ? "Gift" : "赠品";
    case "free_shipping":
      return en ? "Free shipping" : "包邮";
  }
}

/** A coupon face for any template body (used by the form's preview and the detail page). */
export function CouponFace(props: { name: string; benefit: Benefit | null; lines: string[]; label: string }) {
  const l = useLang();
  const t = useFormT();
  return (
    <figure className="coupon-preview" aria-label={props.label}>
      <div className="face" aria-hidden={props.benefit ? undefined : true}>
        {props.benefit ? faceText(props.benefit, l) : "?"}
      </div>
      <figcaption className="body">
        <strong>{props.name || "—"}</strong>
        {props.benefit ? null : <p className="muted">{t("previewIncomplete")}</p>}
        {props.lines.map((x) => (
          <p key={x}>{x}</p>
        ))}
      </figcaption>
    </figure>
  );
}

export function Preview({ s }: { s: FormState }) {
  const l = useLang();
  const t = useFormT();
  const be: LocalErrors = {};
  const benefit = benefitOf(s, be);
  const ve: LocalErrors = {};
  const validity = shownValidity(validityOf(s, ve));
  const okBenefit = Object.keys(be).length === 0 ? benefit : null;
  const okValidity = Object.keys(ve).length === 0 ? validity : null;
  const lines: string[] = [];
  if (okBenefit && okValidity) lines.push(termsLine({ benefit: okBenefit, validity: okValidity }, l));
  else if (okBenefit) lines.push(benefitText(okBenefit, l));
  else if (okValidity) lines.push(validityText(okValidity, l));
  const scope = scopeOf(s, {});
  if (s.scopeKind === "platform" || s.storeId.trim()) lines.push(scopeText(scope, l));
  return (
    <aside className="preview" aria-labelledby="preview-title">
      <h2 id="preview-title">{t("preview")}</h2>
      <CouponFace name={s.name.trim()} benefit={okBenefit} lines={lines} label={t("preview")} />
    </aside>
  );
}
