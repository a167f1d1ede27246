// Members found by id prefix, fifty a page, with tier, stage, RFM tier, orders and spend.
import { useEffect, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { ErrorBanner, PageHeader, TextField } from "../../ui";
import { usePaged } from "./common";
import { MemberTable } from "./MemberTable";
import { useMembers } from "./messages";
import type { MemberView } from "./types";

export function MemberList() {
  const t = useMembers();
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
        <MemberTable paged={paged} empty={t("empty")} joined />
      </section>
    </>
  );
}
