// "Claim codes": makes pre-made codes (inline, or by a job followed to the end) and downloads them as CSV.
import { useEffect, useState, type FormEvent } from "react";
import { ApiError, type Schemas } from "../../../shared/api";
import { errorText } from "../../../shared/errors";
import { useLang } from "../../../shared/i18n";
import { useApi, useSession } from "../../session";
import { ErrorBanner, TextField } from "../../ui";
import { codesCsv, fetchBlob, saveBlob } from "./download";
import { useT } from "./messages";

type Job = Schemas["JobView"];

const SHOWN = 20;

export function ClaimCodes({ templateId, onMade }: { templateId: string; onMade(): void }) {
  const api = useApi();
  const { session } = useSession();
  const l = useLang();
  const t = useT();
  const [count, setCount] = useState("10");
  const [countError, setCountError] = useState<string | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  // Follows a running job once a second until it ends.
  const running = job?.status === "running" ? job.job_id : null;
  useEffect(() => {
    if (!running) return;
    let stop = false;
    const timer = setInterval(async () => {
      try {
        const j = await api<Job>("GET", `/v1/jobs/${encodeURIComponent(running)}`);
        if (stop) return;
        setJob(j);
        if (j.status !== "running") onMade();
      } catch (err) {
        if (!stop) setError(err);
      }
    }, 1000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [running, api, onMade]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const n = Number(count.trim());
    if (!/^\d+$/.test(count.trim()) || n < 1 || n > 1_000_000) {
      setCountError(t("badCount"));
      return;
    }
    setCountError(null);
    setError(null);
    setBusy(true);
    try {
      const a = await api<Partial<Schemas["ClaimCodesAnswer"]> & Partial<Job>>(
        "POST",
        `/v1/templates/${encodeURIComponent(templateId)}/claim-codes`,
        { count: n },
      );
      if (a.codes) {
        setCodes(a.codes);
        setJob(null);
      } else {
        setCodes(null);
        setJob(a as Job);
      }
      onMade();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function downloadJob() {
    if (!job || !session) return;
    setError(null);
    try {
      const blob = await fetchBlob(session.key, `/v1/jobs/${encodeURIComponent(job.job_id)}/codes.csv`);
      saveBlob(blob, `${job.job_id}-codes.csv`);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <section className="card" aria-labelledby="codes-title">
      <h2 id="codes-title">{t("codesSection")}</h2>
      <form onSubmit={submit} className="row" noValidate>
        <TextField label={t("codesCount")} value={count} onChange={setCount} hint={t("codesHint")} error={countError} />
        <div className="row-action">
          <button type="submit" disabled={busy || job?.status === "running"}>
            {t("makeCodes")}
          </button>
        </div>
      </form>
      <ErrorBanner error={error} />
      {codes && (
        <div>
          <p role="status">{t("codesMade", { n: codes.length.toLocaleString() })}</p>
          <p className="muted">{t("codesShown", { n: Math.min(SHOWN, codes.length) })}</p>
          <ul className="codes" aria-label={t("codesSection")}>
            {codes.slice(0, SHOWN).map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <button type="button" className="secondary" onClick={() => saveBlob(codesCsv(codes), `${templateId}-codes.csv`)}>
            {t("downloadCsv")}
          </button>
        </div>
      )}
      {job && (
        <div>
          <label htmlFor="job-progress">{t("jobProgress")}</label>{" "}
          <progress id="job-progress" max={job.total} value={job.done} />
          <p role="status">
            {t(`jobStatus_${job.status}` as "jobStatus_running", { done: job.done.toLocaleString(), total: job.total.toLocaleString() })}
            {job.error ? ` — ${errorText(new ApiError(0, job.error.code, job.error.message), l)}` : ""}
          </p>
          {job.status !== "running" && job.done > 0 && (
            <button type="button" className="secondary" onClick={downloadJob}>
              {t("downloadCsv")}
            </button>
          )}
        </div>
      )}
    </section>
  );
}
