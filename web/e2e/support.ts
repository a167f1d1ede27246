// What the end-to-end tests share: the admin key, API set-up calls, sign-in and screenshots.
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
