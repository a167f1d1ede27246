// The coupon center (center.html at /center): the public coupons a member may claim, paged, each claimable in one tap.
import { StrictMode, useEffect, useRef, useState, type FormEvent } from "react";
import { createRoot } from "react-dom/client";
import { ApiError, call, type Page, type Schemas } from "../shared/api";
import { useLang } from "../shared/i18n";
import {
  ClaimAttempt,
  forgetToken,
  memberId,
  saveToken,
  storedToken,
  takeFragmentToken,
  type Claimed,
} from "./api";
import { channelParam, localTime } from "./format";
import { useMember } from "./messages";
import { CouponCard, Frame, memberError, reasonText, SavedToken, TokenField } from "./ui";

takeFragmentToken();
const channel = channelParam();
const LIMIT = 20;

/** A coupon of the center and whether this member may claim it (decided by the server). */
type Item = Schemas["CenterItem"];
/** One page of the list, with the cursor that fetched it (to fetch it again after a claim). */
interface Chunk {
  cursor: string | null;
  items: Item[];
  next: string | null;
}
type Outcome = { won: Claimed } | { refusal: unknown };

function CenterPage() {
  const t = useMember();
  const l = useLang();
  const [token, setToken] = useState(storedToken);
  const [error, setError] = useState<string | null>(null);
  return (
    <Frame title={t("centerTitle")}>
      {token ? (
        <Coupons
          token={token}
          onBadToken={(e) => {
            forgetToken();
            setToken(null);
            setError(e ? memberError(e, l, t) : null);
          }}
        />
      ) : (
        <TokenForm
          initialError={error}
          onToken={(tk) => {
            saveToken(tk);
            setError(null);
            setToken(tk);
          }}
        />
      )}
    </Frame>
  );
}

/** No token on this phone yet: ask for it, check it (GET /v1/me), keep it. */
function TokenForm({ initialError, onToken }: { initialError: string | null; onToken(t: string): void }) {
  const t = useMember();
  const l = useLang();
  const [typed, setTyped] = useState("");
  const [error, setError] = useState(initialError);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const token = typed.trim();
    if (!token) return setError(t("needToken"));
    setBusy(true);
    try {
      await memberId(token);
      onToken(token);
    } catch (err) {
      setError(memberError(err, l, t));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="m-claim" onSubmit={submit} noValidate>
      <TokenField value={typed} onChange={setTyped} error={error} />
      <button type="submit" disabled={busy} aria-busy={busy || undefined}>
        {t("continue")}
      </button>
    </form>
  );
}

function Coupons({ token, onBadToken }: { token: string; onBadToken(e: unknown): void }) {
  const t = useMember();
  const l = useLang();
  const [chunks, setChunks] = useState<Chunk[] | null>(null);
  const [total, setTotal] = useState(0);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [outcomes, setOutcomes] = useState<Record<string, Outcome>>({});
  const attempts = useRef(new Map<string, ClaimAttempt>());
  const listRef = useRef<HTMLUListElement>(null);
  const outcomeEls = useRef(new Map<string, HTMLElement>());

  async function fetchPage(cursor: string | null): Promise<Chunk | null> {
    const q = `?limit=${LIMIT}${channel ? `&channel=${channel}` : ""}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    try {
      const page = await call<Page<Item>>(token, "GET", `/v1/center${q}`);
      setTotal(page.total);
      setLoadError(null);
      return { cursor, items: page.items, next: page.next };
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) onBadToken(e);
      else setLoadError(e);
      return null;
    }
  }

  async function loadFirst() {
    setLoading(true);
    const c = await fetchPage(null);
    if (c) setChunks([c]);
    setLoading(false);
  }
  useEffect(() => {
    void loadFirst();
  }, [token]);

  async function loadMore() {
    const last = chunks?.[chunks.length - 1];
    if (!chunks || !last?.next) return;
    setLoading(true);
    const before = chunks.reduce((n, c) => n + c.items.length, 0);
    const c = await fetchPage(last.next);
    setLoading(false);
    if (!c) return;
    setChunks([...chunks, c]);
    // Keyboard and screen-reader users land on the first coupon just loaded.
    requestAnimationFrame(() => (listRef.current?.children[before] as HTMLElement | undefined)?.focus());
  }

  async function claim(item: Item, chunkIndex: number) {
    const id = item.template.id;
    let attempt = attempts.current.get(id);
    if (!attempt) attempts.current.set(id, (attempt = new ClaimAttempt()));
    if (attempt.inFlight) return;
    setBusy(id);
    let outcome: Outcome;
    try {
      const won = await attempt.claim(token, id, { channel });
      if (!won) return;
      outcome = { won };
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.code === "not_customer")) return onBadToken(e);
      outcome = { refusal: e };
    } finally {
      setBusy(null);
    }
    setOutcomes((o) => ({ ...o, [id]: outcome }));
    // The page the coupon is on, again: its new state and reason (limit reached, sold out…).
    const chunk = chunks?.[chunkIndex];
    const fresh = chunk ? await fetchPage(chunk.cursor) : null;
    if (fresh)
      setChunks((cs) =>
        cs?.map((c, i) => (i === chunkIndex ? { ...fresh, next: i === cs.length - 1 ? fresh.next : c.next } : c)) ?? cs,
      );
    requestAnimationFrame(() => {
      if (!document.activeElement || document.activeElement === document.body) outcomeEls.current.get(id)?.focus();
    });
  }

  const shown = chunks?.reduce((n, c) => n + c.items.length, 0) ?? 0;
  const next = chunks?.[chunks.length - 1]?.next ?? null;

  return (
    <>
      <SavedToken token={token} onChange={() => onBadToken(null)} />
      {loadError ? (
        <p className="m-notice" role="alert">
          {memberError(loadError, l, t)}{" "}
          <button type="button" className="m-link" onClick={() => void (chunks ? loadMore() : loadFirst())}>
            {t("retry")}
          </button>
        </p>
      ) : null}
      {!chunks && !loadError && (
        <p role="status" className="m-muted">
          {t("loading")}
        </p>
      )}
      {chunks && shown === 0 && <p className="m-muted">{t("empty")}</p>}
      {chunks && shown > 0 && (
        <ul className="m-list" ref={listRef} aria-label={t("listLabel")}>
          {chunks.flatMap((c, ci) =>
            c.items.map((item) => {
              const id = item.template.id;
              const o = outcomes[id];
              return (
                <li key={id} tabIndex={-1}>
                  <CouponCard tpl={item.template}>
                    <div className="m-actions">
                      <div className="m-status" role="status" aria-live="polite" aria-atomic="true">
                        {o && (
                          <p
                            className={"won" in o ? "m-done" : "m-notice"}
                            tabIndex={-1}
                            ref={(el) => {
                              if (el) outcomeEls.current.set(id, el);
                              else outcomeEls.current.delete(id);
                            }}
                          >
                            {"won" in o
                              ? t("claimedNote", { code: o.won.code, until: localTime(o.won.valid_until, l) })
                              : memberError(o.refusal, l, t)}
                          </p>
                        )}
                      </div>
                      {item.claimable ? (
                        <button
                          type="button"
                          disabled={busy === id}
                          aria-busy={busy === id || undefined}
                          onClick={() => void claim(item, ci)}
                        >
                          {busy === id ? t("claiming") : t("claim")}
                          <span className="sr-only"> {item.template.name}</span>
                        </button>
                      ) : (
                        <p className="m-reason">{item.reason ? reasonText(item.reason, l) : null}</p>
                      )}
                    </div>
                  </CouponCard>
                </li>
              );
            }),
          )}
        </ul>
      )}
      {chunks && shown > 0 && (
        <p className="m-muted" aria-live="polite">
          {t("shown", { n: shown, total })}
        </p>
      )}
      {next && (
        <button type="button" className="m-more m-secondary" disabled={loading} onClick={() => void loadMore()}>
          {loading ? t("loading") : t("loadMore")}
        </button>
      )}
    </>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <CenterPage />
  </StrictMode>,
);
