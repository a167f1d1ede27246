// The sandbox member's claimed coupons, each with its terms and the pin / exclude choice.
import { useLang } from "../../../shared/i18n";
import { termsLine } from "../../../shared/terms";
import { ErrorBanner } from "../../ui";
import { PagedTable, usePaged, when } from "../members/common";
import type { CouponView, TemplateView } from "../members/types";
import { useTemplates } from "../members/useTemplates";
import { useSandbox } from "./messages";

export type Choice = "pin" | "exclude";

/** The coupon's name as a person reads it: its template's name, else its id. */
export function couponName(c: CouponView | undefined, id: string, templates: Record<string, TemplateView>): string {
  const t = c ? templates[c.template_id] : undefined;
  return t ? t.name : id;
}

export function useWallet(userId: string | null) {
  const paged = usePaged<CouponView>(
    userId ? `/v1/users/${encodeURIComponent(userId)}/coupons?status=claimed&limit=50` : null,
  );
  const coupons = paged.page?.items ?? [];
  const templates = useTemplates(coupons.map((c) => c.template_id));
  return { paged, coupons, templates };
}

export function Wallet(props: {
  wallet: ReturnType<typeof useWallet>;
  choices: Record<string, Choice>;
  onChoose(id: string, choice: Choice | null): void;
  errors: Record<string, string>;
}) {
  const t = useSandbox();
  const l = useLang();
  const { paged, templates } = props.wallet;
  return (
    <section className="card" aria-labelledby="sandbox-wallet">
      <h2 id="sandbox-wallet">{t("wallet")}</h2>
      <ErrorBanner error={paged.error} />
      <PagedTable
        paged={paged}
        empty={t("walletEmpty")}
        cols={[t("coupon"), t("terms"), t("validUntil"), t("pin"), t("exclude")]}
        row={(c) => {
          const tpl = templates[c.template_id];
          const name = couponName(c, c.id, templates);
          const choice = props.choices[c.id];
          const error = props.errors[c.id];
          return (
            <tr key={c.id}>
              <td>
                <strong>{name}</strong>
                <div className="muted small">{c.id}</div>
                {error && (
                  <small className="error" role="alert" id={`pin-error-${c.id}`}>
                    {error}
                  </small>
                )}
              </td>
              <td>{tpl ? termsLine(tpl, l) : ""}</td>
              <td>{when(c.valid_until, l)}</td>
              <td>
                <input
                  type="checkbox"
                  aria-label={t("pinOne", { name })}
                  aria-describedby={error ? `pin-error-${c.id}` : undefined}
                  checked={choice === "pin"}
                  onChange={(e) => props.onChoose(c.id, e.target.checked ? "pin" : null)}
                />
              </td>
              <td>
                <input
                  type="checkbox"
                  aria-label={t("excludeOne", { name })}
                  checked={choice === "exclude"}
                  onChange={(e) => props.onChoose(c.id, e.target.checked ? "exclude" : null)}
                />
              </td>
            </tr>
          );
        }}
      />
    </section>
  );
}
