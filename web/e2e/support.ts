// What the end-to-end tests share: the admin key, API set-up calls (templates, customer keys), sign-in, axe and screenshots.
import AxeBuilder from "@axe-core/playwright";
import { expect, type APIRequestContext, type Page } from "@playwright/test";

export const ADMIN_KEY = "e2e-admin-key";

/** Calls the API as the admin (set-up that is not what a test is about). */
export async function api<T = any>(
  request: APIRequestContext,
  method: "GET" | "POST" | "PUT",
  path: string,
  body?: unknown,
  key = ADMIN_KEY,
): Promise<T> {
  const res = await request.fetch(path, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.ok(), `${method} ${path}: ${res.status()} ${text}`).toBeTruthy();
  return (text ? JSON.parse(text) : null) as T;
}

/** What a set-up template leaves open unless `body` says otherwise: no stock or limits, everyone, every channel and region. */
const OPEN = { stock: null, per_user_limit: null, per_user_daily_limit: null, audience: { kind: "all" }, channels: null, regions: null };

/** Creates a template (`body` over OPEN) and activates it with `key`: answers its id and name. */
export async function activeTemplate(
  request: APIRequestContext,
  body: Record<string, unknown>,
  key = ADMIN_KEY,
): Promise<{ id: string; name: string }> {
  const tpl = await api(request, "POST", "/v1/templates", { ...OPEN, ...body }, key);
  await api(request, "POST", `/v1/templates/${tpl.id}/activate`, undefined, key);
  return { id: tpl.id, name: tpl.name };
}

/** A customer key for a new member id starting with `prefix`. */
export async function customer(request: APIRequestContext, prefix = "m"): Promise<{ user: string; key: string }> {
  const user = unique(prefix);
  const { key } = await api(request, "POST", "/v1/keys", { role: "customer", user_id: user });
  return { user, key };
}

/** axe-core finds nothing on the page as it is. */
export async function noViolations(page: Page): Promise<void> {
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations, JSON.stringify(axe.violations, null, 2)).toEqual([]);
}

/** A unique suffix, so tests never collide on ids in one database. */
export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

/** Signs in to the console with `key` (the admin's by default). */
export async function signIn(page: Page, key = ADMIN_KEY): Promise<void> {
  await page.goto("/console/");
  await page.getByLabel(/API 密钥|API key/).fill(key);
  await page.getByRole("button", { name: /登录|Sign in/ }).click();
  await expect(page.getByRole("navigation")).toBeVisible();
}

/** Saves a screenshot of the page as screens/<name>.png (kept across runs; README images come from here). */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `screens/${name}.png`, fullPage: true });
}
