// The coupon center on a phone: the token form, public coupons only, paging, claiming one and its new reason.
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { activeTemplate, api, customer, noViolations, shot, unique } from "./support";

test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

/** An active public store template (50 − 5, 7 days, one per member) named `prefix`…, with `over` on top. */
function publicTemplate(request: APIRequestContext, prefix: string, over: Record<string, unknown> = {}) {
  return activeTemplate(request, {
    name: unique(prefix),
    scope: { kind: "store", store_id: "s1" },
    benefit: { kind: "reduction", threshold: 5000, off: 500 },
    validity: { kind: "relative", days: 7 },
    stock: 50,
    per_user_limit: 1,
    distribution: ["public"],
    funding: { platform_bp: 0, merchant_bp: 10000 },
    ...over,
  });
}

/** Clicks "Load more" until the list has no next page. */
async function loadAll(page: Page) {
  const more = page.getByRole("button", { name: /加载更多|Load more/ });
  for (let i = 0; i < 50 && (await more.count()) > 0; i++) {
    const before = await page.getByRole("article").count();
    await more.click();
    await expect.poll(() => page.getByRole("article").count()).toBeGreaterThan(before);
  }
}

test("a member signs in with the token, sees public coupons (not link_only ones), claims one and sees its reason", async ({ page, request }) => {
  const shown = await publicTemplate(request, "E2E 中心 ");
  const hidden = await publicTemplate(request, "E2E 仅链接 ", { distribution: ["link_only"] });
  const { key } = await customer(request, "c");

  await page.goto("/center");
  await expect(page.getByRole("heading", { level: 1, name: "领券中心" })).toBeVisible();
  await page.getByLabel(/会员令牌|Customer token/).fill("not-a-key");
  await page.getByRole("button", { name: /进入领券中心|Open the coupon center/ }).click();
  await expect(page.getByText("会员令牌无效或已失效，请重新输入")).toBeVisible();
  await shot(page, "center-token-refused");
  await page.getByLabel(/会员令牌|Customer token/).fill(key);
  await page.getByRole("button", { name: /进入领券中心|Open the coupon center/ }).click();
  await expect(page.getByText(`尾号 ${key.slice(-4)}`)).toBeVisible();

  await expect(page.getByRole("article").first()).toBeVisible();
  await loadAll(page);
  const card = page.getByRole("article", { name: shown.name });
  await expect(card).toBeVisible();
  await expect(page.getByRole("article", { name: hidden.name })).toHaveCount(0);
  await expect(card).toContainText("满50减5");
  await expect(card).toContainText("订单满 ¥50.00 减 ¥5.00");
  await expect(card).toContainText("店铺 s1 可用");
  await expect(card).toContainText("剩余 50 / 50 张");
  await card.scrollIntoViewIfNeeded();
  await shot(page, "center-list");

  const claim = card.getByRole("button", { name: /领取|Claim/ });
  await expect(claim).toHaveAccessibleName(`领取 ${shown.name}`);
  await claim.click();
  await expect(card.getByRole("status")).toContainText(/领取成功，券码 [0-9A-Z]+/);
  await expect(card.getByRole("button", { name: /领取|Claim/ })).toHaveCount(0);
  await expect(card).toContainText("您已达到该券的领取上限");
  await expect(card).toContainText("剩余 49 / 50 张");
  await card.scrollIntoViewIfNeeded();
  await shot(page, "center-claimed");

  // The next visit remembers the token and shows the reason from the server.
  await page.goto("/center?lang=en");
  await loadAll(page);
  const again = page.getByRole("article", { name: shown.name });
  await expect(again).toContainText("You have reached this coupon's claim limit");
  await expect(again.getByRole("button", { name: /Claim/ })).toHaveCount(0);
  await again.scrollIntoViewIfNeeded();
  await shot(page, "center-reason-en");
});

test("the center pages with Load more, and a sold-out coupon shows its reason", async ({ page, request }) => {
  for (let i = 0; i < 21; i++) await publicTemplate(request, `E2E 分页${i} `);
  const soldOut = await publicTemplate(request, "E2E 售罄 ", { stock: 1 });
  const other = await customer(request, "c");
  await api(request, "POST", `/v1/templates/${soldOut.id}/claim`, { user_id: other.user }, other.key);
  const { key } = await customer(request, "c");

  await page.goto(`/center#token=${key}`);
  await expect(page.getByRole("article")).toHaveCount(20);
  await expect(page.getByText(/已显示 20 \/ \d+ 张/)).toBeVisible();
  const more = page.getByRole("button", { name: "加载更多" });
  await expect(more).toBeVisible();
  await shot(page, "center-first-page");
  await more.click();
  await expect.poll(() => page.getByRole("article").count()).toBeGreaterThan(20);
  await loadAll(page);
  await expect(more).toHaveCount(0);
  const card = page.getByRole("article", { name: soldOut.name });
  await expect(card).toContainText("券已领完");
  await expect(card.getByRole("button", { name: /领取|Claim/ })).toHaveCount(0);
  await card.scrollIntoViewIfNeeded();
  await shot(page, "center-sold-out");
});

test("axe finds no violations in the coupon center", async ({ page, request }) => {
  await publicTemplate(request, "E2E 无障碍 ", { per_user_daily_limit: 1, channels: ["app", "mini_program"] });
  await page.goto("/center");
  await expect(page.getByLabel(/会员令牌|Customer token/)).toBeVisible();
  await noViolations(page);
  const { key } = await customer(request, "c");
  await page.goto(`/center?channel=app#token=${key}`);
  await expect(page.getByRole("article").first()).toBeVisible();
  await noViolations(page);
  await shot(page, "center-axe");
});
