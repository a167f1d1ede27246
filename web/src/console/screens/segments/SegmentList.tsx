// Segments, fifty a page, each leading to its members and (for rule segments) the builder.
import { Link } from "react-router";
import { useLang } from "../../../shared/i18n";
import { ErrorBanner, PageHeader } from "../../ui";
import { PagedTable, usePaged, when } from "../members/common";
import { useSegments } from "./messages";
import type { SegmentView } from "./types";

export function SegmentList() {
  const t = useSegments();
  const l = useLang();
  const paged = usePaged<SegmentView>("/v1/segments?limit=50");
  return (
    <>
      <PageHeader title={t("title")}>
        <Link className="link-button" to="new">
          {t("newSegment")}
        </Link>
      </PageHeader>
      <ErrorBanner error={paged.error} />
      <PagedTable
        paged={paged}
        empty={t("empty")}
        cols={[t("name"), t("id"), t("kind"), t("updated"), t("actions")]}
        row={(s) => (
          <tr key={s.id}>
            <td>
              <Link to={encodeURIComponent(s.id)}>{s.name}</Link>
            </td>
            <td className="muted">{s.id}</td>
            <td>{s.kind === "rule" ? t("ruleKind") : t("listed")}</td>
            <td>{when(s.updated_at, l)}</td>
            <td className="row">
              <Link to={encodeURIComponent(s.id)} aria-label={t("membersOf", { name: s.name })}>
                {t("members")}
              </Link>
              {s.kind === "rule" && (
                <Link to={`${encodeURIComponent(s.id)}/edit`} aria-label={t("editOf", { name: s.name })}>
                  {t("edit")}
                </Link>
              )}
            </td>
          </tr>
        )}
      />
    </>
  );
}
