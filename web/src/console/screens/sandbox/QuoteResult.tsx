// A quote as the sandbox shows it: the totals, the chosen coupons with their per-line shares,
// gifts, and each coupon left out with its reason in the person's language.
import { useLang } from "../../../shared/i18n";
import { yuan } from "../../../shared/money";
import { ListTable, Table } from "../../list";
import { reasonOf } from "../campaigns/reason";
import type { CouponView, TemplateView } from "../members/types";
import type { QuoteBody, Quote } from "./cart";
import { useSandbox, type SandboxT } from "./messages";
import { couponName } from "./Wallet";

/** Why a coupon was left out, in `l`: the API's reasons are its error codes, plus two of its own. */
export function reasonText(reason: string, t: SandboxT, l: ReturnType<typeof useLang>): string {
  if (reason === "excluded" || reason === "not_best") return t(reason);
  return reasonOf(reason, l);
}

export function QuoteResult(props: {
  quote: Quote;
  request: QuoteBody;
  coupons: CouponView[];
  templates: Record<string, TemplateView>;
  stale: boolean;
}) {
  const t = useSandbox();
  const l = useLang();
  const { quote, request } = props;
  const byId = new Map(props.coupons.map((c) => [c.id, c]));
  const name = (id: string) => couponName(byId.get(id), id, props.templates);
  const sku = (lineId: string) => request.lines.find((x) => x.line_id === lineId)?.sku ?? "";
  const totals: [string, number][] = [
    [t("subtotal"), quote.subtotal],
    [t("discount"), quote.discount],
    [t("shipping"), quote.shipping],
    [t("shippingWaived"), quote.shipping_waived],
    [t("payable"), quote.payable],
  ];
  return (
    <section className="card" aria-labelledby="sandbox-result" aria-live="polite">
      <h2 id="sandbox-result">{t("result")}</h2>
      {props.stale && <p className="banner">{t("stale")}</p>}
      <dl className="totals">
        {totals.map(([label, v]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd className="num">{yuan(v)}</dd>
          </div>
        ))}
      </dl>

      <h3>{t("chosen")}</h3>
      <ListTable
        items={quote.coupons}
        empty={t("noneChosen")}
        cols={[t("coupon"), [t("amount"), "num"], t("apportionment")]}
        row={(c) => (
          <tr key={c.coupon_id}>
            <td>
              <strong>{name(c.coupon_id)}</strong>
              <div className="muted small">{c.coupon_id}</div>
            </td>
            <td className="num">{yuan(c.discount)}</td>
            <td>
              {c.lines.length === 0 && c.store_id ? (
                t("waivesShipping", { store: c.store_id })
              ) : (
                <ul className="plain">
                  {c.lines.map((s) => (
                    <li key={s.line_id}>
                      {t("lineShare", { id: s.line_id, sku: sku(s.line_id), amount: yuan(s.amount) })}
                    </li>
                  ))}
                </ul>
              )}
            </td>
          </tr>
        )}
      />

      {quote.gifts.length > 0 && (
        <>
          <h3>{t("gifts")}</h3>
          <ul>
            {quote.gifts.map((g) => (
              <li key={`${g.coupon_id}-${g.sku}`}>
                {name(g.coupon_id)}: {t("giftLine", { sku: g.sku, qty: g.qty, store: g.store_id ?? "—" })}
              </li>
            ))}
          </ul>
        </>
      )}

      {quote.not_applied.length > 0 && (
        <>
          <h3>{t("notApplied")}</h3>
          <Table
            items={quote.not_applied}
            cols={[t("coupon"), t("reason")]}
            row={(n) => (
              <tr key={n.coupon_id}>
                <td>
                  <strong>{name(n.coupon_id)}</strong>
                  <div className="muted small">{n.coupon_id}</div>
                </td>
                <td>{reasonText(n.reason, t, l)}</td>
              </tr>
            )}
          />
        </>
      )}
    </section>
  );
}
