// One segment: its size, its members (paged) and their CSV export (fetched with the key).
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { useApi, useSession } from "../../session";
import { ErrorBanner, PageHeader } from "../../ui";
import { usePaged } from "../members/common";
import { MemberTable } from "../members/MemberTable";
import type { MemberView } from "../members/types";
import { fetchBlob, saveBlob } from "../templates/download";
import { useSegments } from "./messages";
import type { SegmentView } from "./types";

export function SegmentMembers() {
  const { id = "" } = useParams();
  const t = useSegments();
  const api = useApi();
  const { session } = useSession();
  const [segment, setSegment] = useState<SegmentView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [exporting, setExporting] = useState(false);
  const path = `/v1/segments/${encodeURIComponent(id)}`;
  const paged = usePaged<MemberView>(`${path}/members?limit=50`);

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
      saveBlob(await fetchBlob(session?.key ?? "", `${path}/members.csv`), `${id}-members.csv`);
    } catch (e) {
      setError(e);
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
      {segment?.size != null && <p className="big">{t("size", { n: segment.size })}</p>}
      <MemberTable paged={paged} empty={t("noMembers")} />
    </>
  );
}
