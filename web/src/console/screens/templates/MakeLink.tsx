// "Make link": signs a claim link (POST /v1/templates/{id}/links) and shows its URLs and a QR code of the short URL.
import { useState, type FormEvent } from "react";
import { ApiError, type Schemas } from "../../../shared/api";
import { errorText } from "../../../shared/errors";
import { useLang } from "../../../shared/i18n";
import { useApi } from "../../session";
import { ErrorBanner, TextField } from "../../ui";
import { useT } from "./messages";
import { when } from "./Terms";

type LinkAnswer = Schemas["LinkAnswer"];

export function MakeLink({ templateId }: { templateId: string }) {
  const api = useApi();
  const l = useLang();
  const t = useT();
  const [expires, setExpires] = useState("");
  const [user, setUser] = useState("");
  const [answer, setAnswer] = useState<LinkAnswer | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: { expires_at?: string; user_id?: string } = {};
      if (expires) body.expires_at = new Date(expires).toISOString();
      if (user.trim()) body.user_id = user.trim();
      const a = await api<LinkAnswer>("POST", `/v1/templates/${encodeURIComponent(templateId)}/links`, body);
      setAnswer(a);
      // The QR encoder loads only when a link is made.
      const QRCode = (await import("qrcode")).default;
      setQr(await QRCode.toDataURL(a.short_url ?? a.url, { margin: 1, width: 200 }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  // A refused expiry (in the past) shows beside its field; anything else in the banner.
  const onField = (name: string) => error instanceof ApiError && error.field === name;

  return (
    <section className="card" aria-labelledby="link-title">
      <h2 id="link-title">{t("linkSection")}</h2>
      <form onSubmit={submit} className="row">
        <TextField
          label={t("linkExpires")}
          type="datetime-local"
          value={expires}
          onChange={setExpires}
          error={onField("expires_at") ? errorText(error, l) : null}
        />
        <TextField label={t("linkUser")} value={user} onChange={setUser} error={onField("user_id") ? errorText(error, l) : null} />
        <div className="row-action">
          <button type="submit" disabled={busy}>
            {t("makeLink")}
          </button>
        </div>
      </form>
      {error != null && !onField("expires_at") && !onField("user_id") && <ErrorBanner error={error} />}
      {answer && (
        <div className="link-answer">
          <dl className="terms">
            <div>
              <dt>{t("url")}</dt>
              <dd>
                <a href={answer.url} className="break" data-testid="link-url">
                  {answer.url}
                </a>
              </dd>
            </div>
            {answer.short_url && (
              <div>
                <dt>{t("shortUrl")}</dt>
                <dd>
                  <a href={answer.short_url} data-testid="link-short-url">
                    {answer.short_url}
                  </a>
                </dd>
              </div>
            )}
            <div>
              <dt>{t("expiresAt")}</dt>
              <dd>{when(answer.expires_at, l)}</dd>
            </div>
          </dl>
          {qr && <img src={qr} width={200} height={200} alt={t("qrAlt", { url: answer.short_url ?? answer.url })} />}
        </div>
      )}
    </section>
  );
}
