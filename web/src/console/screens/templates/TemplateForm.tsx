// Create (`new`) or edit a draft (`:id/edit`): every element of a template, a live preview, errors beside their fields.
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError } from "../../../shared/api";
import { errorText } from "../../../shared/errors";
import { useLang } from "../../../shared/i18n";
import { useApi } from "../../session";
import { ErrorBanner, PageHeader, TextField } from "../../ui";
import { toBody, type LocalErrors } from "./form/body";
import { bind, type SectionProps } from "./form/fields";
import { FundingSection, DistributionSection, LimitsSection } from "./form/Limits";
import { formMessages, useFormT } from "./form/messages";
import { emptyForm, fromTemplate, type FormState } from "./form/model";
import { knownPaths, resolvePath } from "./form/paths";
import { Preview } from "./form/Preview";
import { BenefitSection, ScopeSection } from "./form/ScopeBenefit";
import { AudienceSection, ReachSection, ValiditySection } from "./form/WhenWho";
import { useT } from "./messages";
import type { TemplateView } from "./types";

export default function TemplateForm() {
  const { id } = useParams();
  const api = useApi();
  const l = useLang();
  const t = useFormT();
  const tt = useT();
  const navigate = useNavigate();
  const [s, setS] = useState<FormState>(emptyForm);
  const [loaded, setLoaded] = useState<TemplateView | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [local, setLocal] = useState<LocalErrors>({});
  const [apiError, setApiError] = useState<{ path: string | null; error: unknown } | null>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => {
    if (!id) return;
    api<TemplateView>("GET", `/v1/templates/${encodeURIComponent(id)}`)
      .then((v) => {
        setLoaded(v);
        setS(fromTemplate(v));
      })
      .catch(setLoadError);
  }, [id, api]);

  // After a refused save, move the keyboard focus to the first field marked invalid.
  useEffect(() => {
    if (!apiError && !Object.keys(local).length) return;
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"], [data-invalid] input')?.focus();
  }, [apiError, local]);

  const known = useMemo(() => knownPaths(s), [s]);
  const set = (patch: Partial<FormState>) => setS((prev) => ({ ...prev, ...patch }));
  const err = (path: string): string | null => {
    const code = local[path];
    if (code) return t(`local_${code}` as keyof typeof formMessages);
    if (apiError?.path === path) return errorText(apiError.error, l);
    return null;
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    const { body, errors } = toBody(s);
    setLocal(errors);
    setApiError(null);
    if (Object.keys(errors).length) return;
    setBusy(true);
    try {
      const saved = id
        ? await api<TemplateView>("PUT", `/v1/templates/${encodeURIComponent(id)}`, body)
        : await api<TemplateView>("POST", "/v1/templates", body);
      navigate(`/templates/${encodeURIComponent(saved.id)}`);
    } catch (error) {
      const path = error instanceof ApiError ? resolvePath(error.field, known) : null;
      setApiError({ path, error });
    } finally {
      setBusy(false);
    }
  }

  if (loadError) return <ErrorBanner error={loadError} />;
  if (id && !loaded) return <p>{tt("loading")}</p>;
  if (loaded && !loaded.allowed_actions.includes("edit"))
    return (
      <>
        <PageHeader title={t("editTitle")} />
        <p className="banner error" role="alert">
          {tt("onlyDrafts")}
        </p>
        <Link to={`/templates/${encodeURIComponent(loaded.id)}`}>{tt("backToList")}</Link>
      </>
    );

  const p: SectionProps = { s, set, err, t };
  const marked = Object.keys(local).length > 0 || (apiError && apiError.path);
  return (
    <>
      <PageHeader title={t(id ? "editTitle" : "createTitle")} />
      <div className="template-editor">
        <form ref={formRef} onSubmit={submit} noValidate className="template-form">
          {marked ? (
            <p className="banner error" role="status">
              {t("fixMarked")}
            </p>
          ) : (
            apiError && <ErrorBanner error={apiError.error} />
          )}
          <section className="card" aria-labelledby="sec-basics">
            <h2 id="sec-basics">{t("sectionBasics")}</h2>
            <TextField {...bind(p, "name", "name")} required />
            <TextField {...bind(p, "description", "description")} />
          </section>
          <ScopeSection {...p} />
          <BenefitSection {...p} />
          <ValiditySection {...p} />
          <AudienceSection {...p} />
          <ReachSection {...p} />
          <LimitsSection {...p} />
          <DistributionSection {...p} />
          <FundingSection {...p} />
          <div className="form-actions">
            <button type="submit" disabled={busy}>
              {busy ? t("saving") : t("save")}
            </button>
            <Link to={id ? `/templates/${encodeURIComponent(id)}` : "/templates"}>{t("cancel")}</Link>
          </div>
        </form>
        <Preview s={s} />
      </div>
    </>
  );
}
