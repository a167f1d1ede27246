// The member pages' API calls: the member's token (URL fragment or this phone), who it is, and claiming once per attempt.
import { ApiError, call, type Schemas } from "../shared/api";

/** A template as members may see it (GET /v1/links/{link}, GET /v1/center). */
export type PublicTemplate = Schemas["PublicTemplate"];

/** GET /v1/links/{link}: the link's coupon and, for a member's token, whether they may claim it. */
export type LinkInfo = Schemas["LinkView"];

/** POST /v1/templates/{id}/claim → 201. */
export type Claimed = Schemas["ClaimedBody"];

const TOKEN_KEY = "quan.member.token";

/** A handed-over token that differs from the one saved on this phone, until the member chooses. */
let pending: string | null = null;

/** Takes `#token=...` from the address (the integrating app's hand-over) and clears the address.
 * A first token is kept; one that differs from the token already saved here waits for the member
 * to choose (`pendingToken`), so a crafted link cannot silently switch them to someone else's wallet. */
export function takeFragmentToken(): void {
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  const token = hash.get("token")?.trim();
  if (!token) return;
  const saved = storedToken();
  if (saved && saved !== token) pending = token;
  else saveToken(token);
  history.replaceState(null, "", location.pathname + location.search);
}

/** The handed-over token waiting for the member's choice, if any. */
export function pendingToken(): string | null {
  return pending;
}

/** The member chose: `use` keeps the handed-over token, otherwise it is dropped. */
export function settlePendingToken(use: boolean): void {
  if (use && pending) saveToken(pending);
  pending = null;
}

export function storedToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY) || null;
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  try {
    localStorage.setItem(TOKEN_KEY, token.trim());
  } catch {
    /* private mode: the token lives for this page only */
  }
}

export function forgetToken(): void {
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* nothing kept */
  }
}

const ids = new Map<string, string>();

/** The member id of `token` (GET /v1/me); a key that is not a customer's throws `not_customer`. */
export async function memberId(token: string): Promise<string> {
  const known = ids.get(token);
  if (known) return known;
  const me = await call<Schemas["MeView"]>(token, "GET", "/v1/me");
  if (me.role !== "customer" || !me.user_id) throw new ApiError(403, "not_customer", "not a customer token");
  ids.set(token, me.user_id);
  return me.user_id;
}

/** A random UUID (also where crypto.randomUUID is missing: plain http on a phone). */
function uuid(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Claims for one attempt: one request at a time, each with the attempt's Idempotency-Key, so a
 * double tap or a retry after a lost answer never claims twice. A definite answer (a coupon or a
 * refusal) ends the attempt; the next tap starts a new one.
 */
export class ClaimAttempt {
  private key: string | null = null;
  private busy = false;

  get inFlight(): boolean {
    return this.busy;
  }

  /** The coupon, or throws ApiError; answers null when a request of this attempt is still out. */
  async claim(
    token: string,
    templateId: string,
    body: { link?: string; channel?: string },
  ): Promise<Claimed | null> {
    if (this.busy) return null;
    this.busy = true;
    try {
      const user_id = await memberId(token);
      this.key ??= uuid();
      const claimed = await call<Claimed>(token, "POST", `/v1/templates/${encodeURIComponent(templateId)}/claim`, { user_id, ...body }, { "Idempotency-Key": this.key });
      this.key = null;
      return claimed;
    } catch (e) {
      const unsure = !(e instanceof ApiError) || e.status === 0 || e.status >= 500 || e.code === "in_flight";
      if (!unsure) this.key = null;
      throw e;
    } finally {
      this.busy = false;
    }
  }
}
