// A template (`:id`): its coupon face, all terms, live counters, its review, status buttons,
// links and claim codes.
import { useCallback, useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { useLang } from "../../../shared/i18n";
import { scopeText, termsLine } from "../../../shared/terms";
import { may, useApi, useSession } from "../../session";
import { Badge, ErrorBanner, PageHeader } from "../../ui";
import { ClaimCodes } from "./ClaimCodes";
import { Counters } from "./Counters";
import { CouponFace } from "./form/Preview";
import { shown } from "./local";
import { MakeLink } from "./MakeLink";
import { useT } from "./messages";
import { TemplateReviewPanel } from "./TemplateReview";
import { Terms, when } from "./Terms";
import type { TemplateAction, TemplateView } from "./types";

/** A status change (the rest of a template's allowed actions is its edit). */
function isChange(a: TemplateAction): a is Exclude<TemplateAction, "edit"> {
  return a !== "edit";
}

export default function TemplateDetail() {
  const { id = "" } = useParams();
  const api = useApi();
  const { session } = useSession();
  // What the key may do (GET /v1/me) and what the template's status allows (its allowed_actions).
  const writes = may(session, "write_templates");
  const handsOut = may(session, "links_and_codes");
  const l = useLang();
  const t = useT();
  const [tpl, setTpl] = useState<TemplateView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const path = `/v1/templates/${encodeURIComponent(id)}`;

  const load = useCallback(() => {
    api<TemplateView>("GET", path).then(setTpl, setError);
  }, [api, path]);

  // Live counters: read again every 15 seconds while the page is open.
  useEffect(() => {
    load();
    const timer = setInterval(load, 15_000);
    return () => clearInterval(timer);
  }, [load]);

  async function change(action: Exclude<TemplateAction, "edit">) {
    if (action === "end" && !window.confirm(t("confirmEnd"))) return;
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const v = await api<TemplateView>("POST", `${path}/${action}`);
      setTpl(v);
      setNotice(t("statusChanged", { status: t(`status_${v.status}`) }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (!tpl) return error ? <ErrorBanner error={error} /> : <p>{t("loading")}</p>;
  return (
    <>
      <p>
        <Link to="/templates">{t("backToList")}</Link>
      </p>
      <PageHeader title={tpl.name}>
        <Badge value={tpl.status} label={t(`status_${tpl.status}`)} />
        {writes && tpl.allowed_actions.includes("edit") && <Link to={`/templates/${encodeURIComponent(tpl.id)}/edit`}>{t("edit")}</Link>}
        {(writes ? tpl.allowed_actions.filter(isChange) : []).map((a) => (
          <button key={a} type="button" className={a === "end" ? "secondary" : undefined} disabled={busy} onClick={() => change(a)}>
            {t(a)}
          </button>
        ))}
      </PageHeader>
      <p role="status" className={notice ? "banner ok" : "sr-only"}>
        {notice}
      </p>
      <ErrorBanner error={error} />
      <div className="grid">
        <section className="card" aria-labelledby="face-title">
          <h2 id="face-title">{t("terms")}</h2>
          <CouponFace
            name={tpl.name}
            benefit={tpl.benefit}
            lines={[termsLine(shown(tpl), l), scopeText(tpl.scope, l)]}
            label={t("terms")}
          />
          <p className="muted">
            {t("id")}: <code>{tpl.id}</code> · {t("created")}: {when(tpl.created_at, l)} · {t("updated")}: {when(tpl.updated_at, l)}
          </p>
        </section>
        <Counters tpl={tpl} />
      </div>
      <section className="card" aria-labelledby="terms-title">
        <h2 id="terms-title">{t("allTerms")}</h2>
        <Terms tpl={tpl} />
      </section>
      {tpl.status !== "draft" && <TemplateReviewPanel id={tpl.id} version={tpl.claimed + tpl.used} />}
      {handsOut && <MakeLink templateId={tpl.id} />}
      {handsOut && <ClaimCodes templateId={tpl.id} onMade={load} />}
    </>
  );
}
