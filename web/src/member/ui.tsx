// The member pages' building blocks: the page frame with its language switch, the coupon card, the token field.
import { useEffect, useId, useState, type ReactNode } from "react";
import { ApiError } from "../shared/api";
import { errorText } from "../shared/errors";
import { setLang, useLang, type Lang } from "../shared/i18n";
import { benefitText } from "../shared/terms";
import { pendingToken, settlePendingToken, type PublicTemplate } from "./api";
import { face, termRows } from "./format";
import { useMember } from "./messages";
import "./member.css";

/** The text of an API refusal for a member (a member's token, not an operator's key). */
export function memberError(e: unknown, l: Lang, t: ReturnType<typeof useMember>): string {
  if (e instanceof ApiError && e.code === "not_customer") return t("notCustomer");
  if (e instanceof ApiError && e.status === 401) return t("badToken");
  return errorText(e, l);
}

/** The text of a claim reason code (GET /v1/center `reason`). */
export function reasonText(code: string, l: Lang): string {
  return errorText(new ApiError(409, code, code), l);
}

/** The page: brand and language switch on top, one h1, the content in main. */
export function Frame({ title, children }: { title: string; children: ReactNode }) {
  const t = useMember();
  useEffect(() => {
    document.title = `${title} · ${t("brand")}`;
  }, [title, t]);
  return (
    <div className="m-page">
      <header className="m-top">
        <span className="m-brand">{t("brand")}</span>
        <LangSwitch />
      </header>
      <main className="m-main">
        <h1>{title}</h1>
        <TokenSwitch />
        {children}
      </main>
    </div>
  );
}

/** A link that hands over another member's token than the one saved here: the member chooses
 * which to use, and nothing switches silently. */
function TokenSwitch() {
  const t = useMember();
  const [pending, setPending] = useState(pendingToken);
  if (!pending) return null;
  return (
    <section className="m-switch" role="alertdialog" aria-labelledby="m-switch-text">
      <p id="m-switch-text">{t("switchToken", { tail: pending.slice(-4) })}</p>
      <button
        type="button"
        onClick={() => {
          settlePendingToken(true);
          location.reload();
        }}
      >
        {t("switchUse")}
      </button>{" "}
      <button
        type="button"
        className="m-link"
        onClick={() => {
          settlePendingToken(false);
          setPending(null);
        }}
      >
        {t("switchKeep")}
      </button>
    </section>
  );
}

/** 中文 / English, as two toggle buttons. */
export function LangSwitch() {
  const l = useLang();
  const t = useMember();
  const pick = (next: Lang, label: string) => (
    <button type="button" lang={next} aria-pressed={l === next} onClick={() => setLang(next)}>
      {label}
    </button>
  );
  return (
    <div className="m-lang" role="group" aria-label={t("language")}>
      {pick("zh-CN", "中文")}
      {pick("en", "English")}
    </div>
  );
}

/** A coupon: the face (value and condition), its name and benefit, and every term. */
export function CouponCard({ tpl, headingLevel = 2, children }: { tpl: PublicTemplate; headingLevel?: 2 | 3; children?: ReactNode }) {
  const l = useLang();
  const id = useId();
  const f = face(tpl.benefit, l);
  const H = headingLevel === 2 ? "h2" : "h3";
  return (
    <article className="m-coupon" aria-labelledby={id}>
      <div className="m-ticket">
        <div className="m-face" aria-hidden="true">
          <span className="m-big">{f.big}</span>
          <span className="m-small">{f.small}</span>
        </div>
        <div className="m-head">
          <H id={id}>{tpl.name}</H>
          <p className="m-benefit">{benefitText(tpl.benefit, l)}</p>
          {tpl.description && <p className="m-desc">{tpl.description}</p>}
        </div>
      </div>
      <dl className="m-terms">
        {termRows(tpl, l).map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {children}
    </article>
  );
}

/** The member's token: a labelled password input with its hint and error beside it. */
export function TokenField(props: { value: string; onChange(v: string): void; error?: string | null }) {
  const t = useMember();
  const id = useId();
  const described = [`${id}-hint`, props.error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div className={props.error ? "m-field invalid" : "m-field"}>
      <label htmlFor={id}>{t("token")}</label>
      <input
        id={id}
        type="password"
        autoComplete="off"
        autoCapitalize="off"
        spellCheck={false}
        value={props.value}
        required
        aria-invalid={props.error ? true : undefined}
        aria-describedby={described}
        onChange={(e) => props.onChange(e.target.value)}
      />
      <small id={`${id}-hint`} className="m-hint">
        {t("tokenHint")}
      </small>
      {props.error && (
        <small id={`${id}-error`} className="m-error" role="alert">
          {props.error}
        </small>
      )}
    </div>
  );
}

/** The saved token, shown by its last characters, with a way to enter another. */
export function SavedToken({ token, onChange }: { token: string; onChange(): void }) {
  const t = useMember();
  return (
    <p className="m-saved">
      <span>{t("tokenSaved", { tail: token.slice(-4) })}</span>{" "}
      <button type="button" className="m-link" onClick={onChange}>
        {t("changeToken")}
      </button>
    </p>
  );
}
