// The console: sign-in, then the navigation for the key's role and one screen per area.

import { lazy, Suspense, useState, type FormEvent } from "react";
import { NavLink, Navigate, Route, Routes } from "react-router";
import { errorText } from "../shared/errors";
import { setLang, useLang, type Lang } from "../shared/i18n";
import { useShell } from "./messages";
import { can, signInWith, useSession, type Area } from "./session";
import { ErrorBanner, TextField } from "./ui";

const screens: Record<Area, ReturnType<typeof lazy>> = {
  dashboard: lazy(() => import("./screens/Dashboard")),
  templates: lazy(() => import("./screens/Templates")),
  sandbox: lazy(() => import("./screens/Sandbox")),
  members: lazy(() => import("./screens/Members")),
  segments: lazy(() => import("./screens/Segments")),
  campaigns: lazy(() => import("./screens/Campaigns")),
  calculators: lazy(() => import("./screens/Calculators")),
};
const order: Area[] = ["dashboard", "templates", "sandbox", "members", "segments", "campaigns", "calculators"];

export function App() {
  const { session } = useSession();
  return session ? <Shell /> : <SignIn />;
}

/** Language switch, on every page. */
export function LangSwitch() {
  const l = useLang();
  const t = useShell();
  return (
    <label className="lang">
      <span>{t("language")}</span>
      <select value={l} onChange={(e) => setLang(e.target.value as Lang)}>
        <option value="zh-CN">中文</option>
        <option value="en">English</option>
      </select>
    </label>
  );
}

function SignIn() {
  const t = useShell();
  const l = useLang();
  const { setSession } = useSession();
  const [key, setKey] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const s = await signInWith(key.trim());
      if (!order.some((a) => can(s, a))) setNotice(t("customerKey"));
      else setSession(s);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">{t("product")}</h1>
        <p>{t("signInIntro")}</p>
        <TextField
          label={t("apiKey")}
          type="password"
          value={key}
          onChange={setKey}
          autoComplete="current-password"
          required
          error={error ? errorText(error, l) : notice}
        />
        <button type="submit" disabled={busy || !key.trim()}>
          {t("signIn")}
        </button>
        <LangSwitch />
      </form>
    </main>
  );
}

function Shell() {
  const t = useShell();
  const { session, setSession } = useSession();
  const areas = order.filter((a) => can(session!, a));
  return (
    <div className="shell">
      <header className="top">
        <span className="brand">{t("product")}</span>
        <span className="who">{t("role", { role: t(session!.role) })}</span>
        <LangSwitch />
        <button type="button" className="link" onClick={() => setSession(null)}>
          {t("signOut")}
        </button>
      </header>
      <nav aria-label={t("nav")}>
        <ul>
          {areas.map((a) => (
            <li key={a}>
              <NavLink to={a === "dashboard" ? "/" : `/${a}`} end={a === "dashboard"}>
                {t(a)}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">
        <Suspense fallback={<p>{t("loading")}</p>}>
          <Routes>
            {areas.map((a) => {
              const Screen = screens[a];
              return (
                <Route key={a} path={a === "dashboard" ? "/" : `/${a}/*`} element={<Screen />} />
              );
            })}
            <Route path="*" element={areas.length ? <Navigate to={areas[0] === "dashboard" ? "/" : `/${areas[0]}`} /> : <ErrorBanner error={null} />} />
          </Routes>
        </Suspense>
      </main>
    </div>
  );
}
