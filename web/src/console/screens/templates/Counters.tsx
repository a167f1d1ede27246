// A template's live counters: issued, claimed, used and the stock left.
import { useT } from "./messages";
import type { TemplateView } from "./types";

/** "剩余 80 / 100", or "不限" for unlimited stock. */
export function stockText(tpl: Pick<TemplateView, "stock" | "remaining">, t: ReturnType<typeof useT>): string {
  if (tpl.stock == null) return t("unlimited");
  return t("remainingOf", { remaining: (tpl.remaining ?? tpl.stock).toLocaleString(), stock: tpl.stock.toLocaleString() });
}

export function Counters({ tpl }: { tpl: TemplateView }) {
  const t = useT();
  const items: [string, string][] = [
    [t("issued"), tpl.issued.toLocaleString()],
    [t("claimed"), tpl.claimed.toLocaleString()],
    [t("used"), tpl.used.toLocaleString()],
    [t("stock"), stockText(tpl, t)],
  ];
  return (
    <section className="card" aria-labelledby="counters-title">
      <h2 id="counters-title">{t("counters")}</h2>
      <dl className="counters">
        {items.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd className="num">{v}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
