// Sign-in: a refused key in Chinese, the admin key, the language switch, axe-core, and the keyboard alone.
import { expect, test } from "@playwright/test";
import { activeTemplate, ADMIN_KEY, api, noViolations, shot, signIn, unique } from "./support";

test("a wrong key is refused, in Chinese by default", async ({ page }) => {
  await page.goto("/console/");
  await page.getByLabel(/API 密钥|API key/).fill("not-a-real-key");
  await page.getByRole("button", { name: /登录|Sign in/ }).click();
  await expect(page.getByText("API 密钥无效或缺失，请重新登录")).toBeVisible();
  await expect(page.getByRole("navigation")).toHaveCount(0);
  await shot(page, "signin-wrong-key");
});

test("the admin key signs in, and English changes the navigation", async ({ page }) => {
  await signIn(page);
  const nav = page.getByRole("navigation");
  await expect(nav.getByRole("link", { name: "概览" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "券模板" })).toBeVisible();
  await shot(page, "signin-dashboard-zh");
  await page.getByLabel(/语言|Language/).selectOption("en");
  await expect(nav.getByRole("link", { name: "Dashboard" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Templates" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "券模板" })).toHaveCount(0);
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await shot(page, "signin-dashboard-en");
});

test("axe-core finds no violations on the sign-in page and the dashboard", async ({ page }) => {
  await page.goto("/console/");
  await expect(page.getByRole("button", { name: /登录|Sign in/ })).toBeVisible();
  await noViolations(page);
  await signIn(page);
  await expect(page.getByRole("heading", { name: /今日领取|Claims today/ })).toBeVisible();
  await noViolations(page);
  await shot(page, "signin-axe-dashboard");
});

test("signing in works with the keyboard alone", async ({ page }) => {
  await page.goto("/console/");
  const field = page.getByLabel(/API 密钥|API key/);
  await expect(field).toBeVisible();
  await page.keyboard.press("Tab");
  await expect(field).toBeFocused();
  await page.keyboard.type(ADMIN_KEY);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("navigation")).toBeVisible();
  await expect(page.getByRole("heading", { level: 1, name: /概览|Dashboard/ })).toBeVisible();
  await shot(page, "signin-keyboard");
});

/** A platform no-threshold reduction of ¥5, 100 in stock. */
function body(name: string) {
  return {
    name,
    scope: { kind: "platform" },
    benefit: { kind: "reduction", threshold: 0, off: 500 },
    validity: { kind: "relative", days: 30 },
    stock: 100, per_user_limit: 1,
    distribution: ["public"], funding: { platform_bp: 10000, merchant_bp: 0 },
  };
}

test("the dashboard shows the period's templates and today's claims", async ({ page, request }) => {
  const name = unique("dash-");
  const t = await activeTemplate(request, body(name));
  const member = unique("m");
  await api(request, "PUT", `/v1/members/${member}`, {});
  await api(request, "POST", `/v1/templates/${t.id}/claim`, { user_id: member, channel: "app" });
  // Scored once: the RFM panel says as of when.
  await api(request, "POST", "/v1/rfm/recompute", {});
  await page.emulateMedia({ reducedMotion: "reduce" });
  await signIn(page);
  await expect(page.getByText(/按 .+ 的数据计算/)).toBeVisible();
  // The table lists the first 50 templates; a run of every e2e test makes more than that.
  const all = page.getByRole("button", { name: /显示全部|Show all/ });
  if (await all.isVisible()) await all.click();
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row).toBeVisible();
  await expect(row.getByRole("cell").nth(1)).toHaveText("1");
  const today = page.getByRole("region", { name: /今日领取|Claims today/ });
  await expect(today).toContainText(/[1-9]/);
  await expect(page.getByRole("img", { name: /柱状图|Bar chart/ }).first()).toBeVisible();
  await page.getByLabel(/统计周期|Period/).selectOption("7");
  await expect(page.getByRole("img", { name: /近 7 天/ })).toBeVisible();
  await expect(page.getByRole("img", { name: /RFM/ })).toBeVisible();
  await expect(page.getByRole("img", { name: /生命周期|lifecycle/ })).toBeVisible();
  await shot(page, "dashboard-7-days");

  // A merchant sees its own templates, and no member panels (rfm_tiers and stages are null).
  const store = unique("s");
  const { key } = await api(request, "POST", "/v1/keys", { role: "merchant", store_ids: [store] });
  const mine = await activeTemplate(request, { ...body(unique("mine-")), scope: { kind: "store", store_id: store },
    funding: { platform_bp: 0, merchant_bp: 10000 } }, key);
  await page.getByRole("button", { name: /退出|Sign out/ }).click();
  await signIn(page, key);
  await expect(page.getByRole("row", { name: new RegExp(mine.name) })).toBeVisible();
  await expect(page.getByRole("row", { name: new RegExp(name) })).toHaveCount(0);
  await expect(page.getByRole("heading", { name: /RFM/ })).toHaveCount(0);
  await shot(page, "dashboard-merchant");
});
