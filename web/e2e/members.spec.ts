// Members: find a member by its id prefix, open its 360 view, see its profile, order and coupon.
import { expect, test } from "@playwright/test";
import { activeTemplate, api, noViolations, shot, signIn, unique } from "./support";

test("a member found by id prefix, and its 360 view with the coupon it holds", async ({ page, request }) => {
  const user = unique("m360-");
  const store = unique("s");
  const couponName = unique("会员券满50减5-");
  await api(request, "PUT", `/v1/members/${user}`, { tier: "gold", region: "sh", tags: ["vip"], points: 120 });
  const paidAt = new Date(Date.now() - 2 * 86_400_000).toISOString();
  await api(request, "PUT", `/v1/orders/${unique("POS-")}`, {
    user_id: user, paid_at: paidAt, status: "paid",
    lines: [{ line_id: "1", sku: "milk", store_id: store, category: "dairy", qty: 2, amount: 1200 }],
  });
  const t = await activeTemplate(request, {
    name: couponName, scope: { kind: "store", store_id: store },
    benefit: { kind: "reduction", threshold: 5000, off: 500 }, validity: { kind: "relative", days: 30 },
    per_user_limit: 1, distribution: ["public"], funding: { platform_bp: 0, merchant_bp: 10000 },
  });
  const claimed = await api(request, "POST", `/v1/templates/${t.id}/claim`, { user_id: user, channel: "app" });

  await signIn(page);
  await page.getByRole("navigation").getByRole("link", { name: /会员|Members/ }).click();
  await expect(page.getByRole("heading", { level: 1, name: /会员|Members/ })).toBeVisible();
  await page.getByLabel(/会员 ID 前缀|Id prefix/).fill(user.slice(0, -2));
  await page.getByRole("button", { name: /^(搜索|Search)$/ }).click();
  const row = page.getByRole("row", { name: new RegExp(user) });
  await expect(row).toBeVisible();
  await expect(row).toContainText("gold");
  await expect(row).toContainText(/首单|First order/);
  await expect(row).toContainText("¥12.00");
  await expect(page.getByRole("row")).toHaveCount(2);
  await noViolations(page);
  await shot(page, "members-search");

  await row.getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/console/members/${user}$`));
  await expect(page.getByRole("heading", { level: 1, name: new RegExp(user) })).toBeVisible();
  const profile = page.getByRole("region", { name: /档案|Profile/ });
  await expect(profile).toContainText("gold");
  await expect(profile).toContainText("vip");
  await expect(page.getByRole("region", { name: /最近订单|Recent orders/ })).toContainText("¥12.00");
  const coupon = page.getByRole("article", { name: couponName });
  await expect(coupon).toContainText("满50减5");
  await expect(coupon).toContainText(claimed.code);
  await expect(coupon.getByRole("table")).toContainText(/领取|Claimed/);
  await expect(page.getByRole("region", { name: /券包|Wallet/ })).toContainText("1");
  await noViolations(page);
  await shot(page, "members-360");
});
