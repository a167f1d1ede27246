// One segment: its size, its members (paged) and their CSV export (fetched with the key).
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { ApiError } from "../../../shared/api";
import { useLang } from "../../../shared/i18n";
import { yuan } from "../../../shared/money";
import { useApi, useSession } from "../../session";
import { ErrorBanner, PageHeader } from "../../ui";
import { Pager, stageText, usePaged } from "../members/common";
import { useMembers } from "../members/messages";
import type { MemberView } from "../members/types";
import { useSegments } from "./messages";
import type { SegmentView } from "./types";

export function SegmentMembers() {
  const { id = "" } = useParams();
  const t = useSegments();
  const tm = useMembers();
  const l = useLang();
  const api = useApi();
  const { session } = useSession();
  const [segment, setSegment] = useState<SegmentView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [exporting, setExporting] = useState(false);
  const path = `/v1/segments/${encodeURIComponent(id)}`;
  const paged = usePaged<MemberView>(`${path}/members?limit=50`);
  const items = paged.page?.items ?? [];

  useEffect(() => {
    let live = true;
    api<SegmentView>("GET", path)
      .then((s) => live && setSegment(s))
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [api, path]);

  async function exportCsv() {
    setExporting(true);
    setError(null);
    try {
      const res = await fetch(`${path}/members.csv`, { headers: { Authorization: `Bearer ${session?.key ?? ""}` } });
      if (!res.ok) {
        const body = await res.json().catch(() => null);
        throw new ApiError(res.status, body?.error?.code ?? "internal", body?.error?.message ?? res.statusText);
      }
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `${id}-members.csv`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, "unavailable", String(e)));
    } finally {
      setExporting(false);
    }
  }

  const name = segment?.name ?? id;
  return (
    <>
      <PageHeader title={t("membersTitle", { name })}>
        <Link to="/segments">{t("cancel")}</Link>
        {segment?.kind === "rule" && <Link to="edit">{t("edit")}</Link>}
        <button type="button" onClick={exportCsv} disabled={exporting}>
          {exporting ? t("exporting") : t("exportCsv")}
        </button>
      </PageHeader>
      <ErrorBanner error={error ?? paged.error} />
      {segment?.size !== undefined && <p className="big">{t("size", { n: segment.size })}</p>}
      {paged.page && items.length === 0 && <p className="muted">{t("noMembers")}</p>}
      {items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">{tm("id")}</th>
              <th scope="col">{tm("tier")}</th>
              <th scope="col">{tm("stage")}</th>
              <th scope="col">{tm("rfmTier")}</th>
              <th scope="col" className="num">{tm("orders")}</th>
              <th scope="col" className="num">{tm("spent")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((m) => (
              <tr key={m.id}>
                <td>
                  <Link to={`/members/${encodeURIComponent(m.id)}`}>{m.id}</Link>
                </td>
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
    </>
  );
}
