// The member claim page (claim.html): a signed link's coupon and terms, whether the member may
// claim it (the server decides: GET /v1/links/{link} with the member's token), and the claim;
// /s/… unknown short links.
import { StrictMode, useEffect, useRef, useState, type FormEvent } from "react";
import { createRoot } from "react-dom/client";
import { ApiError, call } from "../shared/api";
import { useLang } from "../shared/i18n";
import { ClaimAttempt, forgetToken, saveToken, storedToken, takeFragmentToken, type Claimed, type LinkInfo } from "./api";
import { channelParam, localTime } from "./format";
import { useMember } from "./messages";
import { CouponCard, Frame, memberError, reasonText, SavedToken, TokenField } from "./ui";

takeFragmentToken();
const params = new URLSearchParams(location.search);
const link = params.get("link");
const channel = channelParam();

type Load = { kind: "loading" } | { kind: "bad" } | { kind: "error"; e: unknown } | { kind: "ok"; info: LinkInfo };

/** The link as the server shows it to `token`'s member (or to anyone, without a token): the
 * coupon, and whether that member may claim it now. A token the server does not know is
 * forgotten and the link read again without it. */
async function readLink(link: string, token: string | null): Promise<LinkInfo> {
  const q = new URLSearchParams(channel ? { channel } : {}).toString();
  const path = `/v1/links/${encodeURIComponent(link)}${q ? `?${q}` : ""}`;
  try {
    return await call<LinkInfo>(token, "GET", path);
  } catch (e) {
    if (!(token && e instanceof ApiError && e.status === 401)) throw e;
    forgetToken();
    return call<LinkInfo>(null, "GET", path);
  }
}

function ClaimPage() {
  if (location.pathname.startsWith("/s/")) return <UnknownShortLink />;
  return <LinkPage />;
}

/** /s/<code> that the server does not know (or whose link expired): answered 404 with this page. */
function UnknownShortLink() {
  const t = useMember();
  return (
    <Frame title={t("unknownShort")}>
      <p>{t("unknownShortBody")}</p>
      <p>
        <a href="/center">{t("toCenter")}</a>
      </p>
    </Frame>
  );
}

function LinkPage() {
  const t = useMember();
  const [load, setLoad] = useState<Load>(link ? { kind: "loading" } : { kind: "bad" });

  async function fetchLink() {
    if (!link) return;
    setLoad({ kind: "loading" });
    try {
      setLoad({ kind: "ok", info: await readLink(link, storedToken()) });
    } catch (e) {
      setLoad(e instanceof ApiError && (e.status === 404 || e.status === 400) ? { kind: "bad" } : { kind: "error", e });
    }
  }
  useEffect(() => {
    void fetchLink();
  }, []);

  return (
    <Frame title={t("claimTitle")}>
      {load.kind === "loading" && (
        <p role="status" className="m-muted">
          {t("loading")}
        </p>
      )}
      {load.kind === "bad" && <BadLink />}
      {load.kind === "error" && <LoadError e={load.e} retry={fetchLink} />}
      {load.kind === "ok" && <Offer info={load.info} link={link!} />}
    </Frame>
  );
}

function BadLink() {
  const t = useMember();
  return (
    <>
      <p className="m-notice" role="alert">
        {t("badLink")}
      </p>
      <p>{t("badLinkBody")}</p>
      <p>
        <a href="/center">{t("toCenter")}</a>
      </p>
    </>
  );
}

function LoadError({ e, retry }: { e: unknown; retry(): void }) {
  const t = useMember();
  const l = useLang();
  return (
    <>
      <p className="m-notice" role="alert">
        {memberError(e, l, t)}
      </p>
      <button type="button" onClick={retry}>
        {t("retry")}
      </button>
    </>
  );
}

/** The coupon of a valid link, and what the server says the member may do with it. */
function Offer({ info, link }: { info: LinkInfo; link: string }) {
  const t = useMember();
  const l = useLang();
  // The card's stock is read again after a claim; the server's answer stays as first loaded.
  const [tpl, setTpl] = useState(info.template);
  async function reread() {
    try {
      setTpl((await readLink(link, storedToken())).template);
    } catch {
      // The card keeps what it showed; the claim's own outcome is already on the page.
    }
  }
  // The server's answer: an expired link refuses everyone; for a known member, `claimable` and
  // its `reason` (null without a token: the claim itself will say).
  const blocked = info.expired
    ? t("expiredLink")
    : info.claimable === false
      ? reasonText(info.reason ?? "internal", l)
      : null;
  return (
    <>
      <CouponCard tpl={tpl} />
      {blocked ? (
        <>
          <p className="m-notice" role="status">
            {blocked}
          </p>
          <p>
            <a href="/center">{t("toCenter")}</a>
          </p>
        </>
      ) : (
        <ClaimForm templateId={info.template_id} onClaimed={reread} />
      )}
    </>
  );
}

/** The token (saved, or typed here) and the claim button; the outcome in a live region. */
function ClaimForm({ templateId, onClaimed }: { templateId: string; onClaimed(): void }) {
  const t = useMember();
  const l = useLang();
  const [saved, setSaved] = useState(storedToken);
  const [typed, setTyped] = useState("");
  const [tokenError, setTokenError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<unknown>(null);
  const [won, setWon] = useState<Claimed | null>(null);
  const attempt = useRef(new ClaimAttempt());
  const wonRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (won) wonRef.current?.focus();
  }, [won]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (attempt.current.inFlight) return;
    const token = saved ?? typed.trim();
    if (!token) {
      setTokenError(t("needToken"));
      return;
    }
    setBusy(true);
    setRefusal(null);
    setTokenError(null);
    try {
      const claimed = await attempt.current.claim(token, templateId, { link: link!, channel });
      if (!claimed) return;
      if (!saved) {
        saveToken(token);
        setSaved(token);
      }
      setWon(claimed);
      onClaimed();
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.code === "not_customer")) {
        // The token itself is wrong: ask for another, keeping what was typed.
        forgetToken();
        if (saved) setTyped(saved);
        setSaved(null);
        setTokenError(memberError(err, l, t));
      } else {
        if (!saved) {
          saveToken(token);
          setSaved(token);
        }
        setRefusal(err);
      }
    } finally {
      setBusy(false);
    }
  }

  const outcome = won ? (
    <p className="sr-only">{t("claimedNote", { code: won.code, until: localTime(won.valid_until, l) })}</p>
  ) : refusal ? (
    <p className="m-notice">{memberError(refusal, l, t)}</p>
  ) : null;

  return (
    <>
      {won ? (
        <section className="m-success" aria-labelledby="won-title">
          <h2 id="won-title" ref={wonRef} tabIndex={-1}>
            {t("claimed")}
          </h2>
          <dl>
            <div>
              <dt>{t("couponCode")}</dt>
              <dd className="m-code">{won.code}</dd>
            </div>
            <div>
              <dt>{t("validFrom")}</dt>
              <dd>{localTime(won.valid_from, l)}</dd>
            </div>
            <div>
              <dt>{t("validUntil")}</dt>
              <dd>{localTime(won.valid_until, l)}</dd>
            </div>
          </dl>
          <p>
            <a href="/center">{t("toCenter")}</a>
          </p>
        </section>
      ) : (
        <form className="m-claim" onSubmit={submit} noValidate>
          {saved ? (
            <SavedToken
              token={saved}
              onChange={() => {
                forgetToken();
                setSaved(null);
                setTyped("");
              }}
            />
          ) : (
            <TokenField value={typed} onChange={setTyped} error={tokenError} />
          )}
          <button type="submit" disabled={busy} aria-busy={busy || undefined}>
            {busy ? t("claiming") : t("claimNow")}
          </button>
        </form>
      )}
      <div className="m-status" role="status" aria-live="polite" aria-atomic="true">
        {outcome}
      </div>
      {refusal && !won ? (
        <p>
          <a href="/center">{t("toCenter")}</a>
        </p>
      ) : null}
    </>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ClaimPage />
  </StrictMode>,
);
