// Members found by id prefix, fifty a page, with tier, stage, RFM tier, orders and spend.
import { useEffect, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { useLang } from "../../../shared/i18n";
import { yuan } from "../../../shared/money";
import { ErrorBanner, PageHeader, TextField } from "../../ui";
import { Pager, stageText, usePaged } from "./common";
import { useMembers } from "./messages";
import type { MemberView } from "./types";

export function MemberList() {
  const t = useMembers();
  const l = useLang();
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const [text, setText] = useState(q);
  useEffect(() => setText(q), [q]);

  // Typing searches after a pause; the button searches at once.
  useEffect(() => {
    if (text.trim() === q) return;
    const timer = setTimeout(() => setParams(text.trim() ? { q: text.trim() } : {}, { replace: true }), 300);
    return () => clearTimeout(timer);
  }, [text, q, setParams]);

  function submit(e: FormEvent) {
    e.preventDefault();
    setParams(text.trim() ? { q: text.trim() } : {}, { replace: true });
  }

  const paged = usePaged<MemberView>(`/v1/members?limit=50${q ? `&q=${encodeURIComponent(q)}` : ""}`);
  const items = paged.page?.items ?? [];

  return (
    <>
      <PageHeader title={t("title")} />
      <form role="search" className="card row" onSubmit={submit} aria-label={t("search")}>
        <TextField label={t("searchLabel")} value={text} onChange={setText} type="search" />
        <div className="row-action">
          <button type="submit">{t("searchButton")}</button>
        </div>
      </form>
      <ErrorBanner error={paged.error} />
      <section aria-labelledby="member-results">
        <h2 id="member-results" className="sr-only">{t("results")}</h2>
        {paged.page && items.length === 0 && <p className="muted">{t("empty")}</p>}
        {items.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">{t("id")}</th>
                <th scope="col">{t("joined")}</th>
                <th scope="col">{t("tier")}</th>
                <th scope="col">{t("stage")}</th>
                <th scope="col">{t("rfmTier")}</th>
                <th scope="col" className="num">{t("orders")}</th>
                <th scope="col" className="num">{t("spent")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((m) => (
                <tr key={m.id}>
                  <td>
                    <Link to={encodeURIComponent(m.id)} aria-label={t("open", { id: m.id })}>
                      {m.id}
                    </Link>
                  </td>
                  <td>{m.member ? t("isMember") : t("notMember")}</td>
                  <td>{m.tier ?? "—"}</td>
                  <td>{stageText(m.lifecycle_stage, l)}</td>
                  <td>{m.rfm.tier}</td>
                  <td className="num">{m.orders_count}</td>
                  <td className="num">{yuan(m.total_spent)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager paged={paged} />
      </section>
    </>
  );
}
