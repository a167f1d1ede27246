/// <reference types="vite/client" />
// The playbooks to start from (examples/campaigns/*.json, built in): each applied as it is or
// after editing its JSON, through POST /v1/playbooks (optionally activating its campaigns).
import { useState } from "react";
import { Link } from "react-router";
import type { Schemas } from "../../../shared/api";
import { useApi } from "../../session";
import { Badge, ErrorBanner, PageHeader } from "../../ui";
import { Check } from "../segments/checks";
import { TextArea } from "./ActionFields";
import { useCampaigns } from "./messages";
import type { CampaignView } from "./types";

const files = import.meta.glob("../../../../../examples/campaigns/*.json", { eager: true, import: "default" }) as Record<
  string,
  { description?: string; campaigns: { name: string }[] }
>;

export const PLAYBOOKS = Object.entries(files)
  .map(([path, body]) => ({ id: path.split("/").pop()!.replace(/\.json$/, ""), body }))
  .sort((a, b) => a.id.localeCompare(b.id));

export function Playbooks() {
  const t = useCampaigns();
  return (
    <>
      <PageHeader title={t("playbooks")}>
        <Link to="/campaigns">{t("back")}</Link>
      </PageHeader>
      <p className="muted">{t("playbooksIntro")}</p>
      <div className="grid">
        {PLAYBOOKS.map((p) => (
          <PlaybookCard key={p.id} id={p.id} body={p.body} />
        ))}
      </div>
    </>
  );
}

function PlaybookCard(props: { id: string; body: (typeof PLAYBOOKS)[number]["body"] }) {
  const t = useCampaigns();
  const api = useApi();
  const [json, setJson] = useState(() => JSON.stringify(props.body, null, 2));
  const [activate, setActivate] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [made, setMade] = useState<CampaignView[] | null>(null);

  async function apply() {
    setError(null);
    setJsonError(null);
    let body: unknown;
    try {
      body = JSON.parse(json);
    } catch {
      setJsonError(t("notJson"));
      return;
    }
    setBusy(true);
    try {
      const r = await api<Schemas["PlaybookApplied"]>("POST", `/v1/playbooks${activate ? "?activate=true" : ""}`, body);
      setMade(r.campaigns);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <article className="card playbook" aria-labelledby={`pb-${props.id}`}>
      <h2 id={`pb-${props.id}`}>{props.id}</h2>
      <p>{props.body.description}</p>
      <ul>
        {props.body.campaigns.map((c) => (
          <li key={c.name}>{c.name}</li>
        ))}
      </ul>
      <details>
        <summary>{t("editJson")}</summary>
        <TextArea label={t("playbookJson", { name: props.id })} value={json} onChange={setJson} error={jsonError ?? undefined} />
      </details>
      <Check label={t("activateNow")} checked={activate} onChange={setActivate} />
      <ErrorBanner error={error} />
      <p>
        <button type="button" onClick={apply} disabled={busy}>
          {busy ? t("applying") : t("apply", { name: props.id })}
        </button>
      </p>
      {made && (
        <p className="banner ok" role="status">
          {t("applied", { names: "" })}
          {made.map((c, i) => (
            <span key={c.id}>
              {i > 0 && ", "}
              <Link to={`/campaigns/${encodeURIComponent(c.id)}`}>{c.name}</Link> <Badge value={c.status} label={t(`s_${c.status}`)} />
            </span>
          ))}
        </p>
      )}
    </article>
  );
}
