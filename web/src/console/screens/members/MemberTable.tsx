// A page of members as a table (id to their 360 view, tier, stage, RFM tier, orders, spend), with its pager.
import { Link } from "react-router";
import { useLang } from "../../../shared/i18n";
import { yuan } from "../../../shared/money";
import { stageText } from "../../../shared/words";
import { PagedTable, type PagedOf } from "./common";
import { useMembers } from "./messages";
import type { MemberView } from "./types";

/** `joined`: a column saying whether each one has joined (the search lists non-members too). */
export function MemberTable(props: { paged: PagedOf<MemberView>; empty: string; joined?: boolean }) {
  const t = useMembers();
  const l = useLang();
  const cols = [t("id"), ...(props.joined ? [t("joined")] : []), t("tier"), t("stage"), t("rfmTier")];
  return (
    <PagedTable
      paged={props.paged}
      empty={props.empty}
      cols={[...cols, [t("orders"), "num"], [t("spent"), "num"]]}
      row={(m) => (
        <tr key={m.id}>
          <td>
            <Link to={`/members/${encodeURIComponent(m.id)}`} aria-label={t("open", { id: m.id })}>
              {m.id}
            </Link>
          </td>
          {props.joined && <td>{m.member ? t("isMember") : t("notMember")}</td>}
          <td>{m.tier ?? "—"}</td>
          <td>{stageText(m.lifecycle_stage, l)}</td>
          <td>{m.rfm.tier}</td>
          <td className="num">{m.orders_count}</td>
          <td className="num">{yuan(m.total_spent)}</td>
        </tr>
      )}
    />
  );
}
