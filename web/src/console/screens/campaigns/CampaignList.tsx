// Campaigns, fifty a page, with status and counters; the way to the builder and the playbooks.
import { Link } from "react-router";
import { yuan } from "../../../shared/money";
import { Badge, ErrorBanner, PageHeader } from "../../ui";
import { PagedTable, usePaged } from "../members/common";
import { useCampaigns } from "./messages";
import { triggerText } from "./summary";
import type { CampaignView } from "./types";

export function CampaignList() {
  const t = useCampaigns();
  const paged = usePaged<CampaignView>("/v1/campaigns?limit=50");
  return (
    <>
      <PageHeader title={t("title")}>
        <Link className="link-button" to="playbooks">
          {t("fromPlaybook")}
        </Link>
        <Link className="link-button" to="new">
          {t("newCampaign")}
        </Link>
      </PageHeader>
      <ErrorBanner error={paged.error} />
      <PagedTable
        paged={paged}
        empty={t("empty")}
        cols={[
          t("name"), t("status"), t("triggerCol"),
          [t("entered"), "num"], [t("treated"), "num"], [t("held_out"), "num"], [t("granted"), "num"], [t("spent"), "num"],
        ]}
        row={(c) => (
          <tr key={c.id}>
            <td>
              <Link to={encodeURIComponent(c.id)}>{c.name}</Link>
              <div className="muted small">{c.id}</div>
            </td>
            <td>
              <Badge value={c.status} label={t(`s_${c.status}`)} />
            </td>
            <td>{triggerText(c.trigger, t)}</td>
            <td className="num">{c.stats.entered}</td>
            <td className="num">{c.stats.treated}</td>
            <td className="num">{c.stats.held_out}</td>
            <td className="num">{c.stats.granted}</td>
            <td className="num">{yuan(c.stats.spent)}</td>
          </tr>
        )}
      />
    </>
  );
}
