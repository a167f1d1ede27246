// A campaign's members (its entries), fifty a page, filtered by status.
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { useLang } from "../../../shared/i18n";
import { SelectField } from "../../ui";
import { PagedTable, usePaged, when } from "../members/common";
import { useCampaigns } from "./messages";
import { reasonOf } from "./reason";
import { ENTRY_STATUSES, type EntryView } from "./types";

/** `version` changes when the campaign's counters move: the page is read again. */
export function CampaignMembers({ id, version }: { id: string; version: number }) {
  const t = useCampaigns();
  const l = useLang();
  const [status, setStatus] = useState("");
  const paged = usePaged<EntryView>(
    `/v1/campaigns/${encodeURIComponent(id)}/members?limit=50${status ? `&status=${status}` : ""}`,
  );
  const { reload } = paged;
  useEffect(() => {
    if (version > 0) reload();
  }, [version, reload]);
  return (
    <section className="card" aria-labelledby="cmp-members">
      <h2 id="cmp-members">{t("members")}</h2>
      <div className="row narrow">
        <SelectField
          label={t("filterStatus")}
          value={status}
          onChange={setStatus}
          options={[{ value: "", label: t("anyStatus") }, ...ENTRY_STATUSES.map((s) => ({ value: s, label: t(`es_${s}`) }))]}
        />
      </div>
      <PagedTable
        paged={paged}
        empty={t("noMembers")}
        cols={[t("userId"), t("status"), t("entryAt"), t("occurrence"), t("reason"), t("coupons")]}
        row={(e) => (
          <tr key={`${e.user_id}-${e.occurrence}`}>
            <td>
              <Link to={`/members/${encodeURIComponent(e.user_id)}`}>{e.user_id}</Link>
            </td>
            <td className="nowrap">{t(`es_${e.status}` as "es_pending")}</td>
            <td className="nowrap">{when(e.at, l)}</td>
            <td className="small ids">{e.occurrence}</td>
            <td>{e.reason ? reasonOf(e.reason, l) : "—"}</td>
            <td className="small ids">{e.coupon_ids.length ? e.coupon_ids.join(", ") : "—"}</td>
          </tr>
        )}
      />
    </section>
  );
}
