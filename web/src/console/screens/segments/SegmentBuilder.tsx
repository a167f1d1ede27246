// The rule segment builder: name, the rule tree, its live size (debounced preview), and save.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError, type Schemas } from "../../../shared/api";
import { errorText } from "../../../shared/errors";
import { useLang } from "../../../shared/i18n";
import { useApi } from "../../session";
import { ErrorBanner, PageHeader, TextField } from "../../ui";
import { useCommon } from "../members/common";
import { useSegments } from "./messages";
import { RuleEditor } from "./RuleEditor";
import { fromRule, newGroup, toRule, update, type Node, type Problems, type Rule } from "./rule";
import type { SegmentView } from "./types";

export function SegmentBuilder() {
  const { id } = useParams();
  const t = useSegments();
  const c = useCommon();
  const l = useLang();
  const api = useApi();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [tree, setTree] = useState<Node>(() => newGroup());
  const [loaded, setLoaded] = useState(!id);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState<{ rule: string; size: number; sample: string[] } | null>(null);
  const [previewError, setPreviewError] = useState<{ rule: string; error: unknown } | null>(null);

  useEffect(() => {
    if (!id) return;
    let live = true;
    api<SegmentView>("GET", `/v1/segments/${encodeURIComponent(id)}`)
      .then((s) => {
        if (!live) return;
        setName(s.name);
        // The builder's tree reads the API's rule (its own type is looser: what a form holds).
        if (s.rule) setTree(fromRule(s.rule as Rule));
        setLoaded(true);
      })
      .catch((e) => live && setLoadError(e));
    return () => {
      live = false;
    };
  }, [api, id]);

  const problems: Problems = {};
  const rule = toRule(tree, "rule", problems);
  const complete = Object.keys(problems).length === 0;
  const ruleJson = complete ? JSON.stringify(rule) : null;

  // The live size: asked 400 ms after the rule last changed; late answers to older rules are dropped.
  useEffect(() => {
    if (!ruleJson || !loaded) return;
    let live = true;
    const timer = setTimeout(() => {
      api<Schemas["PreviewView"]>("POST", "/v1/segments/preview", { rule: JSON.parse(ruleJson) })
        .then((p) => {
          if (!live) return;
          setPreview({ rule: ruleJson, ...p });
          setPreviewError(null);
        })
        .catch((e) => live && setPreviewError({ rule: ruleJson, error: e }));
    }, 400);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, ruleJson, loaded]);

  const edit = useCallback((key: number, f: (n: Node) => Node | null) => {
    setTree((root) => update(root, key, f) ?? root);
    setServerErrors({});
  }, []);

  const shown = showProblems(problems, t);
  const previewFieldError =
    previewError && previewError.rule === ruleJson && previewError.error instanceof ApiError && previewError.error.field
      ? { [previewError.error.field]: errorText(previewError.error, l) }
      : {};
  const errors = { ...shown, ...previewFieldError, ...serverErrors };

  async function save(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setServerErrors({});
    if (!complete) return;
    setBusy(true);
    try {
      const body = { name: name.trim(), rule };
      const s = id
        ? await api<SegmentView>("PUT", `/v1/segments/${encodeURIComponent(id)}`, body)
        : await api<SegmentView>("POST", "/v1/segments", body);
      navigate(`/segments/${encodeURIComponent(s.id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.field && (err.field === "name" || err.field.startsWith("rule"))) {
        setServerErrors({ [err.field]: errorText(err, l) });
      } else setError(err);
    } finally {
      setBusy(false);
    }
  }

  const current = preview && preview.rule === ruleJson ? preview : null;
  const size = !complete
    ? t("incomplete")
    : current
      ? t("sizeIs", { n: current.size })
      : previewError && previewError.rule === ruleJson
        ? errorText(previewError.error, l)
        : t("sizing");

  if (loadError) return <ErrorBanner error={loadError} />;
  if (!loaded) return <p>{c("loading")}</p>;
  return (
    <>
      <PageHeader title={id ? t("builderEdit", { name }) : t("builderNew")}>
        <Link to="/segments">{t("cancel")}</Link>
      </PageHeader>
      <form onSubmit={save} noValidate className="seg-builder">
        <div className="seg-main">
          <div className="card">
            <TextField label={t("name")} value={name} onChange={setName} required error={serverErrors.name} />
          </div>
          <section className="card" aria-labelledby="seg-rules">
            <h2 id="seg-rules">{t("rules")}</h2>
            <RuleEditor node={tree} path="rule" label="1" depth={1} errors={errors} edit={edit} root />
          </section>
          <ErrorBanner error={error} />
          <button type="submit" disabled={busy}>
            {busy ? t("saving") : t("save")}
          </button>
        </div>
        <aside className="card seg-size" aria-labelledby="seg-size">
          <h2 id="seg-size">{t("liveSize")}</h2>
          <p className="big" role="status" aria-live="polite" data-testid="live-size">
            {size}
          </p>
          {current && current.sample.length > 0 && (
            <p className="muted small">{t("sample", { ids: current.sample.slice(0, 5).join(", ") })}</p>
          )}
        </aside>
      </form>
    </>
  );
}

function showProblems(p: Problems, t: ReturnType<typeof useSegments>): Record<string, string> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, t(v)]));
}
