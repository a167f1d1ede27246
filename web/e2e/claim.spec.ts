// The member claim page on a phone: a link's terms, claiming with the token, every refusal, short links, size, axe.
import { gzipSync } from "node:zlib";
import { expect, test, type APIRequestContext, type Page, type Response } from "@playwright/test";
import { activeTemplate, api, customer, noViolations, shot, unique } from "./support";

test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

/** An active link-only platform template (99 − 10, 30 days, one per member) with `over` on top. */
function linkTemplate(request: APIRequestContext, over: Record<string, unknown> = {}) {
  return activeTemplate(request, {
    name: unique("E2E 领券 "),
    scope: { kind: "platform" },
    benefit: { kind: "reduction", threshold: 9900, off: 1000 },
    validity: { kind: "relative", days: 30 },
    stock: 100,
    per_user_limit: 1,
    distribution: ["link_only"],
    funding: { platform_bp: 10000, merchant_bp: 0 },
    ...over,
  });
}

type Link = { link: string; url: string; short_url: string; expires_at: string };

async function linkFor(request: APIRequestContext, id: string, body: Record<string, unknown> = {}): Promise<Link> {
  return api(request, "POST", `/v1/templates/${id}/links`, body);
}

const claimButton = (page: Page) => page.getByRole("button", { name: /立即领取|Claim now/ });
const outcome = (page: Page) => page.getByRole("status").filter({ hasText: /./ });

test("a member sees the link's terms, claims with the token, and the limit refuses a second claim", async ({ page, request }) => {
  const tpl = await linkTemplate(request, { usable_weekdays: [1, 2, 3, 4, 5], per_user_daily_limit: 1 });
  const link = await linkFor(request, tpl.id);
  const { key } = await customer(request);

  await page.goto(link.url);
  await expect(page.getByRole("heading", { level: 1, name: "领取优惠券" })).toBeVisible();
  const card = page.getByRole("article", { name: tpl.name });
  await expect(card).toContainText("满99减10");
  await expect(card).toContainText("订单满 ¥99.00 减 ¥10.00");
  await expect(card).toContainText("领取后30天内有效");
  await expect(card).toContainText("全平台通用");
  await expect(card).toContainText("周一、周二、周三、周四、周五");
  await expect(card).toContainText("每人限领 1 张，每人每天限领 1 张");
  await expect(card).toContainText("剩余 100 / 100 张");
  await shot(page, "claim-terms-zh");

  await page.getByLabel(/会员令牌|Customer token/).fill(key);
  await claimButton(page).click();
  const won = page.getByRole("heading", { name: "领取成功" });
  await expect(won).toBeVisible();
  await expect(won).toBeFocused();
  await expect(page.locator(".m-code")).toHaveText(/^[0-9A-Z]{6,}$/);
  await expect(page.getByText("失效时间", { exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: /领券中心/ })).toHaveAttribute("href", "/center");
  await shot(page, "claim-success-zh");

  // Next visit: the token is remembered and the link answers for it (GET /v1/links/{link}): the
  // server says this member's limit is reached before any tap, and there is nothing to tap.
  await page.reload();
  await expect(page.getByRole("status").filter({ hasText: "您已达到该券的领取上限" })).toBeVisible();
  await expect(claimButton(page)).toHaveCount(0);
  await shot(page, "claim-limit-zh");
});

test("the same in English with ?lang=en, the token from the URL fragment, and the language switch", async ({ page, request }) => {
  const tpl = await linkTemplate(request, { channels: ["sms"] });
  const link = await linkFor(request, tpl.id);
  const { key } = await customer(request);

  await page.goto(`${link.url}&channel=sms&lang=en#token=${key}`);
  await expect(page.getByRole("heading", { level: 1, name: "Claim a coupon" })).toBeVisible();
  await expect(page).toHaveURL(/lang=en$/); // the token left the address bar
  const card = page.getByRole("article", { name: tpl.name });
  await expect(card).toContainText("¥10 off orders of ¥99");
  await expect(card).toContainText("¥10.00 off orders of ¥99.00 or more");
  await expect(card).toContainText("Valid for 30 days after claiming");
  await expect(card).toContainText("SMS");
  await expect(card).toContainText("1 per member");
  await shot(page, "claim-terms-en");

  await claimButton(page).click();
  await expect(page.getByRole("heading", { name: "Claimed" })).toBeVisible();
  await expect(page.getByText("Valid until", { exact: true })).toBeVisible();
  await shot(page, "claim-success-en");

  await page.reload();
  await expect(page.getByRole("status").filter({ hasText: "You have reached this coupon's claim limit" })).toBeVisible();
  await expect(claimButton(page)).toHaveCount(0);
  await shot(page, "claim-limit-en");

  await page.getByRole("button", { name: "中文" }).click();
  await expect(page.getByRole("button", { name: "中文" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByRole("status").filter({ hasText: "您已达到该券的领取上限" })).toBeVisible();
  await expect(card).toContainText("适用渠道");
  await shot(page, "claim-switched-zh");
});

test("a double tap claims once", async ({ page, request }) => {
  const tpl = await linkTemplate(request, { per_user_limit: null });
  const link = await linkFor(request, tpl.id);
  const { user, key } = await customer(request);
  await page.goto(`${link.url}#token=${key}`);
  await claimButton(page).dblclick();
  await expect(page.getByRole("heading", { name: "领取成功" })).toBeVisible();
  await page.waitForLoadState("networkidle");
  const wallet = await api(request, "GET", `/v1/users/${user}/coupons`);
  const items = (Array.isArray(wallet) ? wallet : wallet.items) as { template_id: string }[];
  expect(items.filter((c) => c.template_id === tpl.id)).toHaveLength(1);
  await shot(page, "claim-double-tap");
});

test("a link carrying another member's token asks before it replaces the saved one", async ({ page, request }) => {
  const tpl = await linkTemplate(request, { per_user_limit: null });
  const link = await linkFor(request, tpl.id);
  const mine = await customer(request);
  const theirs = await customer(request, "x");
  await page.goto(`${link.url}#token=${mine.key}`);
  await expect(claimButton(page)).toBeVisible();
  // A crafted link hands over someone else's token: nothing switches until the member says so.
  // (Opened afresh, as from a message: a fragment change alone would not load the page.)
  await page.goto("about:blank");
  await page.goto(`${link.url}#token=${theirs.key}`);
  const ask = page.getByRole("alertdialog");
  await expect(ask).toContainText(theirs.key.slice(-4));
  await ask.getByRole("button", { name: "保留本机的令牌" }).click();
  await expect(ask).toBeHidden();
  await claimButton(page).click();
  await expect(page.getByRole("heading", { name: "领取成功" })).toBeVisible();
  const wallet = async (user: string) => {
    const w = await api(request, "GET", `/v1/users/${user}/coupons`);
    return ((Array.isArray(w) ? w : w.items) as { template_id: string }[]).filter((c) => c.template_id === tpl.id);
  };
  expect(await wallet(mine.user)).toHaveLength(1);
  expect(await wallet(theirs.user)).toHaveLength(0);
  // Chosen, the link's token is used from then on.
  await page.goto("about:blank");
  await page.goto(`${link.url}#token=${theirs.key}`);
  await page.getByRole("alertdialog").getByRole("button", { name: "改用链接中的令牌" }).click();
  await expect(page.getByRole("alertdialog")).toBeHidden();
  await claimButton(page).click();
  await expect(page.getByRole("heading", { name: "领取成功" })).toBeVisible();
  expect(await wallet(theirs.user)).toHaveLength(1);
});

test("an expired link shows its coupon, says it expired and offers no claim", async ({ page, request }) => {
  const tpl = await linkTemplate(request);
  const link = await linkFor(request, tpl.id, { expires_at: new Date(Date.now() + 2500).toISOString() });
  await page.waitForTimeout(3500);
  await page.goto(link.url);
  await expect(page.getByRole("article", { name: tpl.name })).toBeVisible();
  await expect(page.getByText("该领券链接已过期，无法领取")).toBeVisible();
  await expect(claimButton(page)).toHaveCount(0);
  await shot(page, "claim-expired");
});

test("a forged link says so and offers no claim", async ({ page, request }) => {
  const tpl = await linkTemplate(request);
  const link = await linkFor(request, tpl.id);
  const forged = link.link.slice(0, -4) + (link.link.endsWith("AAAA") ? "BBBB" : "AAAA");
  await page.goto(`/claim?template=${tpl.id}&link=${forged}`);
  await expect(page.getByRole("alert")).toHaveText("该领券链接无效");
  await expect(claimButton(page)).toHaveCount(0);
  await shot(page, "claim-forged");
});

test("a sold-out coupon gives the sold-out reason", async ({ page, request }) => {
  const tpl = await linkTemplate(request, { stock: 1, distribution: ["public"] });
  const link = await linkFor(request, tpl.id);
  const other = await customer(request);
  await api(request, "POST", `/v1/templates/${tpl.id}/claim`, { user_id: other.user, link: link.link }, other.key);
  const { key } = await customer(request);

  await page.goto(`${link.url}#token=${key}`);
  await expect(page.getByRole("article", { name: tpl.name })).toContainText("剩余 0 / 1 张");
  await expect(page.getByRole("status").filter({ hasText: "券已领完" })).toBeVisible();
  await expect(claimButton(page)).toHaveCount(0);
  await shot(page, "claim-sold-out");
});

test("a sold-out refusal at the tap is shown in the live region", async ({ page, request }) => {
  const tpl = await linkTemplate(request, { stock: 1 });
  const link = await linkFor(request, tpl.id);
  const { key } = await customer(request);
  await page.goto(`${link.url}#token=${key}`);
  await expect(claimButton(page)).toBeVisible();
  // Another member takes the last one while this page is open.
  const other = await customer(request);
  await api(request, "POST", `/v1/templates/${tpl.id}/claim`, { user_id: other.user, link: link.link }, other.key);
  await claimButton(page).click();
  await expect(outcome(page)).toHaveText("券已领完");
  await shot(page, "claim-sold-out-at-tap");
});

test("the short URL redirects to the claim page", async ({ page, request }) => {
  const tpl = await linkTemplate(request);
  const link = await linkFor(request, tpl.id);
  expect(link.short_url).toMatch(/\/s\/[0-9A-Za-z]{7}$/);
  await page.goto(link.short_url);
  await expect(page).toHaveURL(/\/claim\?template=.+&link=.+/);
  await expect(page.getByRole("article", { name: tpl.name })).toBeVisible();
  await expect(claimButton(page)).toBeVisible();
  await shot(page, "claim-from-short-url");
});

test("an unknown short link answers 404 with a page that leads to the coupon center", async ({ page }) => {
  const res = await page.goto("/s/zzzzzzz");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1, name: "短链接不存在或已过期" })).toBeVisible();
  await expect(page.getByRole("link", { name: /领券中心/ })).toHaveAttribute("href", "/center");
  await shot(page, "short-link-unknown-zh");
  await page.getByRole("button", { name: "English" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "This short link is unknown or expired" })).toBeVisible();
  await shot(page, "short-link-unknown-en");
});

/**
 * What one response of the page load cost on the wire: its headers and its encoded body. A debug
 * server reading a fresh `npm run build` has no `.gz` copies beside the assets (the release
 * build's script makes them) and answers identity; such an asset counts as it would be gzipped
 * (level 9, as the build script does), so the budget holds for what phones get.
 */
async function wireSize(r: Response): Promise<{ path: string; bytes: number; how: string }> {
  const s = await r.request().sizes();
  const encoding = (await r.allHeaders())["content-encoding"];
  const path = new URL(r.url()).pathname;
  const api = path.startsWith("/v1/"); // the API's JSON is sent as it is
  if (encoding || api || s.responseBodySize === 0) return { path, bytes: s.responseHeadersSize + s.responseBodySize, how: encoding ?? (api ? "identity (API)" : "empty") };
  const gz = gzipSync(await r.body(), { level: 9 }).length;
  return { path, bytes: s.responseHeadersSize + 24 + Math.min(gz, s.responseBodySize), how: `identity ${s.responseBodySize} B, gzip ${gz} B` };
}

test("the claim page's first load transfers under 150 KB", async ({ page, request }) => {
  const tpl = await linkTemplate(request);
  const link = await linkFor(request, tpl.id);
  const responses: Response[] = [];
  page.on("response", (r) => responses.push(r));
  await page.goto(link.url, { waitUntil: "networkidle" });
  await expect(page.getByRole("article", { name: tpl.name })).toBeVisible();
  await expect(claimButton(page)).toBeVisible();
  const all = await Promise.all(responses.map(wireSize));
  const total = all.reduce((n, r) => n + r.bytes, 0);
  for (const r of all) console.log(`  ${String(r.bytes).padStart(6)} B  ${r.path.slice(0, 60)}  (${r.how})`);
  console.log(`claim page first load: ${all.length} responses, ${total} bytes (${(total / 1024).toFixed(1)} KB)`);
  test.info().annotations.push({ type: "first-load-bytes", description: String(total) });
  expect(all.length).toBeGreaterThan(3);
  expect(total).toBeLessThan(150 * 1024);
  await shot(page, "claim-first-load");
});

test("the claim page is readable from 360 to 430 px wide", async ({ page, request }) => {
  const tpl = await linkTemplate(request, {
    name: "E2E 超长名称的会员专享满减优惠券 Extra long coupon name for narrow screens",
    benefit: { kind: "percent", min_amount: 19900, rate_bp: 8500, cap: 5000 },
    channels: ["mini_program", "app", "web", "private_message"],
    regions: ["310000", "320100"],
    usable_hours: [{ from: "10:00", until: "14:00" }, { from: "17:00", until: "22:00" }],
  });
  const link = await linkFor(request, tpl.id);
  for (const width of [360, 430]) {
    await page.setViewportSize({ width, height: 800 });
    await page.goto(link.url);
    await expect(claimButton(page)).toBeVisible();
    await expect(page.getByRole("article")).toContainText("订单满 ¥199.00 打8.5折，最多减 ¥50.00");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    await shot(page, `claim-width-${width}`);
  }
});

test("axe finds no violations on the claim page, before and after claiming", async ({ page, request }) => {
  const tpl = await linkTemplate(request, { usable_hours: [{ from: "00:00", until: "23:59" }], usable_on_orders: [1] });
  const link = await linkFor(request, tpl.id);
  const { key } = await customer(request);
  await page.goto(link.url);
  await expect(claimButton(page)).toBeVisible();
  await noViolations(page);
  await shot(page, "claim-axe-offer");

  // Keyboard only: the token field, then the button, then Enter.
  await page.getByLabel(/会员令牌|Customer token/).focus();
  await page.keyboard.type(key);
  await page.keyboard.press("Tab");
  await expect(claimButton(page)).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "领取成功" })).toBeFocused();
  await noViolations(page);
  await shot(page, "claim-axe-success");

  await page.goto("/s/zzzzzzz");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await noViolations(page);
});
