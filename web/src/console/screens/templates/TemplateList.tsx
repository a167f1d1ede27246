// The template list: 50 a page (cursor paging), filtered by status, with status badges and live counters.
import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router";
import type { Page } from "../../../shared/api";
import { useLang } from "../../../shared/i18n";
import { termsLine } from "../../../shared/terms";
import { ListTable } from "../../list";
import { may, useApi, useSession } from "../../session";
import { Badge, ErrorBanner, PageHeader, SelectField } from "../../ui";
import { stockText } from "./Counters";
import { shown } from "./local";
import { useT } from "./messages";
import type { Status, TemplateView } from "./types";

const STATUSES: Status[] = ["draft", "active", "paused", "ended"];

export default function TemplateList() {
  const api = useApi();
  const { session } = useSession();
  const l = useLang();
  const t = useT();
  const [status, setStatus] = useState("");
  // The cursors of the pages before this one; the last is this page's ("" for the first).
  const [cursors, setCursors] = useState<string[]>([""]);
  const [page, setPage] = useState<Page<TemplateView> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const cursor = cursors[cursors.length - 1];

  const load = useCallback(() => {
    const q = new URLSearchParams({ limit: "50" });
    if (status) q.set("status", status);
    if (cursor) q.set("cursor", cursor);
    api<Page<TemplateView>>("GET", `/v1/templates?${q}`).then(
      (p) => {
        setPage(p);
        setError(null);
      },
      setError,
    );
  }, [api, status, cursor]);

  // Live counters: the page is read again every 15 seconds.
  useEffect(() => {
    load();
    const timer = setInterval(load, 15_000);
    return () => clearInterval(timer);
  }, [load]);

  const mayCreate = may(session, "write_templates");
  return (
    <>
      <PageHeader title={t("title")}>
        {mayCreate && (
          <Link className="button" to="/templates/new">
            {t("newTemplate")}
          </Link>
        )}
      </PageHeader>
      <div className="row">
        <SelectField
          label={t("filterStatus")}
          value={status}
          onChange={(v) => {
            setStatus(v);
            setCursors([""]);
          }}
          options={[{ value: "", label: t("allStatuses") }, ...STATUSES.map((s) => ({ value: s, label: t(`status_${s}`) }))]}
        />
        <div className="row-action">
          <button type="button" className="secondary" onClick={load}>
            {t("refresh")}
          </button>
        </div>
      </div>
      <ErrorBanner error={error} />
      {!page ? (
        !error && <p>{t("loading")}</p>
      ) : (
        <ListTable
          items={page.items}
          empty={t("none")}
          caption={t("listCaption")}
          cols={[t("name"), t("status"), t("terms"), [t("issued"), "num"], [t("claimed"), "num"], [t("used"), "num"], [t("stock"), "num"]]}
          row={(x) => (
            <tr key={x.id}>
              <td>
                <Link to={`/templates/${encodeURIComponent(x.id)}`}>{x.name}</Link>
              </td>
              <td>
                <Badge value={x.status} label={t(`status_${x.status}`)} />
              </td>
              <td>{termsLine(shown(x), l)}</td>
              <td className="num">{x.issued.toLocaleString()}</td>
              <td className="num">{x.claimed.toLocaleString()}</td>
              <td className="num">{x.used.toLocaleString()}</td>
              <td className="num">{stockText(x, t)}</td>
            </tr>
          )}
        />
      )}
      {page && (
        <div className="row pager">
          <span className="muted">{t("total", { n: page.total.toLocaleString() })}</span>
          {cursors.length > 1 && (
            <button type="button" className="secondary" onClick={() => setCursors([""])}>
              {t("firstPage")}
            </button>
          )}
          {page.next && (
            <button type="button" className="secondary" onClick={() => setCursors([...cursors, page.next!])}>
              {t("nextPage")}
            </button>
          )}
        </div>
      )}
    </>
  );
}
