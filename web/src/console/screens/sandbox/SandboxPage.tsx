// The checkout sandbox: a member, their wallet with pin / exclude, a cart, and its quote.
import { useState, type FormEvent } from "react";
import { ApiError } from "../../../shared/api";
import { errorText } from "../../../shared/errors";
import { useLang } from "../../../shared/i18n";
import { useApi } from "../../session";
import { ErrorBanner, PageHeader, TextField } from "../../ui";
import { CartForm } from "./CartForm";
import { newLine, toQuoteBody, type CartDraft, type Quote, type QuoteBody } from "./cart";
import { useSandbox } from "./messages";
import { QuoteResult } from "./QuoteResult";
import { Wallet, useWallet, type Choice } from "./Wallet";
import "./sandbox.css";

export function SandboxPage() {
  const t = useSandbox();
  const l = useLang();
  const api = useApi();
  const [userText, setUserText] = useState("");
  const [userId, setUserId] = useState<string | null>(null);
  const [draft, setDraft] = useState<CartDraft>({ lines: [newLine(1)], shipping: {}, channel: "", region: "", at: "" });
  const [choices, setChoices] = useState<Record<string, Choice>>({});
  const [result, setResult] = useState<{ quote: Quote; request: QuoteBody } | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const wallet = useWallet(userId);

  function pick(e: FormEvent) {
    e.preventDefault();
    const id = userText.trim();
    if (!id) {
      setFieldErrors({ user_id: t("needUser") });
      return;
    }
    setFieldErrors({});
    setError(null);
    if (id !== userId) {
      setChoices({});
      setResult(null);
    }
    setUserId(id);
  }

  function choose(id: string, choice: Choice | null) {
    setChoices((c) => {
      const next = { ...c };
      if (choice) next[id] = choice;
      else delete next[id];
      return next;
    });
  }

  const pin = Object.keys(choices).filter((id) => choices[id] === "pin");
  const exclude = Object.keys(choices).filter((id) => choices[id] === "exclude");

  async function quote(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const uid = (userId ?? userText).trim();
    if (!uid) {
      setFieldErrors({ user_id: t("needUser") });
      return;
    }
    const built = toQuoteBody(uid, draft, pin, exclude);
    if (built.errors) {
      setFieldErrors(Object.fromEntries(Object.entries(built.errors).map(([k, v]) => [k, t(v)])));
      return;
    }
    setFieldErrors({});
    setBusy(true);
    try {
      const q = await api<Quote>("POST", "/v1/checkout/quote", built.body);
      setResult({ quote: q, request: built.body });
    } catch (err) {
      const field = err instanceof ApiError ? err.field : undefined;
      if (field && (placed(field) || (err as ApiError).code === "pin_not_applicable")) {
        setFieldErrors({ [field]: errorText(err, l) });
      } else setError(err);
    } finally {
      setBusy(false);
    }
  }

  /** Whether an API error's field is shown beside a control of this page. */
  function placed(field: string): boolean {
    return (
      field === "user_id" || field === "channel" || field === "region" || field === "at" || field === "lines" ||
      /^lines\[\d+\]\.(sku|store_id|category|unit_price|activity_price|qty)$/.test(field) ||
      /^shipping\./.test(field)
    );
  }

  const current = userId ? toQuoteBody(userId, draft, pin, exclude).body : null;
  const stale = !!result && JSON.stringify(current) !== JSON.stringify(result.request);

  return (
    <>
      <PageHeader title={t("title")} />
      <p className="muted">{t("intro")}</p>
      <form className="card" onSubmit={pick} aria-labelledby="sandbox-member">
        <h2 id="sandbox-member">{t("member")}</h2>
        <div className="row">
          <TextField label={t("userId")} value={userText} onChange={setUserText} error={fieldErrors.user_id} />
          <div className="row-action">
            <button type="submit">{t("loadWallet")}</button>
          </div>
        </div>
      </form>
      {userId && <Wallet wallet={wallet} choices={choices} onChoose={choose} errors={fieldErrors} />}
      <form onSubmit={quote} noValidate>
        <CartForm draft={draft} onChange={setDraft} errors={fieldErrors} />
        <ErrorBanner error={error} />
        <p>
          <button type="submit" disabled={busy}>
            {busy ? t("quoting") : t("quote")}
          </button>
        </p>
      </form>
      {result && (
        <QuoteResult
          quote={result.quote}
          request={result.request}
          coupons={wallet.coupons}
          templates={wallet.templates}
          stale={stale}
        />
      )}
    </>
  );
}
