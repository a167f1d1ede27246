// The member 360 view: profile, stage, RFM, recent orders, wallet, coupons with ledgers, events.
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { useLang } from "../../../shared/i18n";
import { yuan } from "../../../shared/money";
import { termsLine } from "../../../shared/terms";
import { stageText } from "../../../shared/words";
import { ListTable, Table } from "../../list";
import { useApi } from "../../session";
import { Badge, ErrorBanner, PageHeader } from "../../ui";
import { useCommon, when } from "./common";
import { useMembers } from "./messages";
import type { Member360 } from "./types";
import { useTemplates } from "./useTemplates";
import { dataText } from "./words";

export function Member360View() {
  const { id = "" } = useParams();
  const t = useMembers();
  const c = useCommon();
  const l = useLang();
  const api = useApi();
  const [view, setView] = useState<Member360 | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    setView(null);
    api<Member360>("GET", `/v1/members/${encodeURIComponent(id)}/360`)
      .then((v) => live && (setView(v), setError(null)))
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [api, id]);
  const templates = useTemplates(view?.coupons.map((x) => x.coupon.template_id) ?? []);

  const m = view?.member;
  return (
    <>
      <PageHeader title={t("view360", { id })}>
        <Link to="..">{t("back")}</Link>
      </PageHeader>
      <ErrorBanner error={error} />
      {!view && !error && <p>{c("loading")}</p>}
      {m && view && (
        <>
          <div className="grid">
            <section className="card" aria-labelledby="m360-profile">
              <h2 id="m360-profile">{t("profile")}</h2>
              <dl className="facts">
                <dt>{t("joined")}</dt>
                <dd>{m.member ? when(m.joined_at, l) : t("notMember")}</dd>
                <dt>{t("tier")}</dt>
                <dd>{m.tier ?? "—"}</dd>
                <dt>{t("region")}</dt>
                <dd>{m.region ?? "—"}</dd>
                <dt>{t("channel")}</dt>
                <dd>{m.channel ?? "—"}</dd>
                <dt>{t("guide")}</dt>
                <dd>{m.guide_id ?? "—"}</dd>
                <dt>{t("points")}</dt>
                <dd>{m.points}</dd>
                <dt>{t("tags")}</dt>
                <dd>{m.tags.length ? m.tags.join(", ") : "—"}</dd>
              </dl>
            </section>
            <section className="card" aria-labelledby="m360-stage">
              <h2 id="m360-stage">{t("stage")}</h2>
              <p className="big">{stageText(m.lifecycle_stage, l)}</p>
              <dl className="facts">
                <dt>{t("orders")}</dt>
                <dd>{m.orders_count}</dd>
                <dt>{t("spent")}</dt>
                <dd>{yuan(m.total_spent)}</dd>
                <dt>{t("firstOrder")}</dt>
                <dd>{when(m.first_order_at, l)}</dd>
                <dt>{t("lastOrder")}</dt>
                <dd>{when(m.last_order_at, l)}</dd>
              </dl>
            </section>
            <section className="card" aria-labelledby="m360-rfm">
              <h2 id="m360-rfm">{t("rfm")}</h2>
              <p className="big">
                {t("rfmTier")}: {m.rfm.tier}
              </p>
              <p>{t("rfmScores", { r: m.rfm.r, f: m.rfm.f, m: m.rfm.m })}</p>
              <p className="muted">{m.rfm.as_of ? t("rfmAsOf", { at: when(m.rfm.as_of, l) }) : t("rfmNever")}</p>
            </section>
            <section className="card" aria-labelledby="m360-wallet">
              <h2 id="m360-wallet">{t("wallet")}</h2>
              <dl className="facts">
                {(["claimed", "locked", "redeemed", "expired", "revoked"] as const).map((k) => (
                  <div key={k} className="fact">
                    <dt>{t(k)}</dt>
                    <dd>{view.wallet[k]}</dd>
                  </div>
                ))}
              </dl>
            </section>
          </div>

          <section className="card" aria-labelledby="m360-orders">
            <h2 id="m360-orders">{t("recentOrders")}</h2>
            <ListTable
              items={view.recent_orders}
              empty={t("noOrders")}
              cols={[t("orderId"), t("status"), t("paidAt"), t("store"), [t("lines"), "num"], [t("amount"), "num"], t("source")]}
              row={(o) => (
                <tr key={o.order_id}>
                  <td>{o.order_id}</td>
                  <td>{dataText("order", o.status, l)}</td>
                  <td>{when(o.paid_at, l)}</td>
                  <td>{o.store_id ?? "—"}</td>
                  <td className="num">{o.line_count}</td>
                  <td className="num">{yuan(o.amount)}</td>
                  <td>{dataText("source", o.source, l)}</td>
                </tr>
              )}
            />
          </section>

          <section className="card" aria-labelledby="m360-coupons">
            <h2 id="m360-coupons">{t("coupons")}</h2>
            {view.coupons.length === 0 && <p className="muted">{t("noCoupons")}</p>}
            {view.coupons.map(({ coupon, ledger }) => {
              const tpl = templates[coupon.template_id];
              const name = tpl?.name ?? coupon.template_id;
              return (
                <article key={coupon.id} className="m360-coupon" aria-label={name}>
                  <h3>
                    {name} <Badge value={coupon.status} label={dataText("coupon", coupon.status, l)} />
                  </h3>
                  <p className="muted">
                    {tpl ? `${termsLine(tpl, l)} · ` : ""}
                    {t("couponCode", { code: coupon.code })} · {t("validUntil", { at: when(coupon.valid_until, l) })}
                  </p>
                  <Table
                    label={t("ledgerOf", { name })}
                    items={ledger}
                    cols={[t("at"), t("event"), t("status"), t("orderId"), t("actor"), t("reason")]}
                    row={(e) => (
                      <tr key={e.seq}>
                        <td>{when(e.at, l)}</td>
                        <td>{dataText("ledger", e.event, l)}</td>
                        <td>{e.from_status ? `${dataText("coupon", e.from_status, l)} → ${dataText("coupon", e.to_status, l)}` : dataText("coupon", e.to_status, l)}</td>
                        <td>{e.order_id ?? "—"}</td>
                        <td>{e.actor}</td>
                        <td>{e.reason ?? "—"}</td>
                      </tr>
                    )}
                  />
                </article>
              );
            })}
          </section>

          <section className="card" aria-labelledby="m360-events">
            <h2 id="m360-events">{t("events")}</h2>
            <ListTable
              items={view.events}
              empty={t("noEvents")}
              cols={[t("at"), t("event"), t("store"), t("orderId")]}
              row={(e) => (
                <tr key={e.event_id}>
                  <td>{when(e.at, l)}</td>
                  <td>{dataText("event", e.kind, l)}</td>
                  <td>{e.store_id ?? "—"}</td>
                  <td>{e.order_id ?? "—"}</td>
                </tr>
              )}
            />
          </section>
        </>
      )}
    </>
  );
}
