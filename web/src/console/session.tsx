// The signed-in operator: their API key, what it may do (from GET /v1/me), and API calls with it.

import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { ApiError, call } from "../shared/api";

export type Role = "platform" | "merchant" | "guide" | "customer";

export interface Me {
  role: Role;
  store_ids: string[];
  user_id: string | null;
}

export interface Session extends Me {
  key: string;
}

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

/** What each role sees in the console; the API refuses the rest anyway. */
export function can(session: Session, area: Area): boolean {
  const allowed: Record<Role, Area[]> = {
    platform: ["dashboard", "templates", "sandbox", "members", "segments", "campaigns"],
    merchant: ["dashboard", "templates"],
    guide: ["templates"],
    customer: [],
  };
  return allowed[session.role].includes(area);
}

export type Area = "dashboard" | "templates" | "sandbox" | "members" | "segments" | "campaigns";
