// The signed-in operator: their API key, what it may do (from GET /v1/me), and API calls with it.

import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { ApiError, call, type Schemas } from "../shared/api";

export type Role = Schemas["Role"];
export type Capability = Schemas["Capability"];

/** GET /v1/me: the key's role, stores, user and what it may do. */
export type Me = Schemas["MeView"];

export type Session = Me & { key: string };

const KEY = "quan.console.session";

function stored(): Session | null {
  try {
    const s = sessionStorage.getItem(KEY);
    return s ? (JSON.parse(s) as Session) : null;
  } catch {
    return null;
  }
}

/** Checks `key` against the API and answers its session (throws ApiError when refused). */
export async function signInWith(key: string): Promise<Session> {
  const me = await call<Me>(key, "GET", "/v1/me");
  return { ...me, key };
}

interface Ctx {
  session: Session | null;
  setSession(s: Session | null): void;
}

const SessionContext = createContext<Ctx>({ session: null, setSession: () => {} });

/** Keeps the session for this browser tab (sessionStorage: closing the tab signs out). */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, set] = useState<Session | null>(stored);
  const setSession = useCallback((s: Session | null) => {
    if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
    else sessionStorage.removeItem(KEY);
    set(s);
  }, []);
  const value = useMemo(() => ({ session, setSession }), [session, setSession]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** The session and a way to change it. */
export function useSession(): Ctx {
  return useContext(SessionContext);
}

/** API calls with the session's key; a 401 signs out (the key was revoked or is unknown). */
export function useApi() {
  const { session, setSession } = useSession();
  return useCallback(
    async <T,>(method: string, path: string, body?: unknown): Promise<T> => {
      try {
        return await call<T>(session?.key ?? null, method, path, body);
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) setSession(null);
        throw e;
      }
    },
    [session, setSession],
  );
}

/** The console's areas, each shown when the key holds its capability (GET /v1/me answers
 * them; the console keeps no role table of its own). */
const NEEDS = {
  dashboard: "dashboard",
  templates: "read_templates",
  sandbox: "quote_for_members",
  members: "members",
  segments: "segments",
  campaigns: "campaigns",
  calculators: "campaigns",
} as const satisfies Record<string, Capability>;

export type Area = keyof typeof NEEDS;

/** Whether the session's key may use `area` (a session kept from before capabilities has none). */
export function can(session: Session, area: Area): boolean {
  return may(session, NEEDS[area]);
}

/** Whether the session's key holds `capability`. */
export function may(session: Session | null, capability: Capability): boolean {
  return session?.capabilities?.includes(capability) ?? false;
}
