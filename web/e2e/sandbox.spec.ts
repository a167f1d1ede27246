// Checkout sandbox: a member with three coupons, the best combination with its per-line shares and
// the reasons for the rest; pinning and excluding change the answer; a bad pin shows beside it.
import { expect, test, type APIRequestContext } from "@playwright/test";
import { activeTemplate, api, noViolations, shot, signIn, unique } from "./support";

/** An active public template claimed by `user`: answers the coupon id. */
async function coupon(request: APIRequestContext, user: string, body: Record<string, unknown>): Promise<string> {
  const t = await activeTemplate(request, { validity: { kind: "relative", days: 30 }, distribution: ["public"], ...body });
  const c = await api(request, "POST", `/v1/templates/${t.id}/claim`, { user_id: user, channel: "app" });
  return c.coupon_id;
}

test("the sandbox quotes a member's cart and pin / exclude change the answer", async ({ page, request }) => {
  const store = unique("s");
  const user = unique("sbx-");
  const storeName = unique("店铺满99减10-");
  const platformName = unique("平台满300减50-");
  const teaName = unique("茶立减8-");
  const merchant = { platform_bp: 0, merchant_bp: 10000 };
  await coupon(request, user, {
    name: storeName, scope: { kind: "store", store_id: store },
    benefit: { kind: "reduction", threshold: 9900, off: 1000 }, funding: merchant,
  });
  await coupon(request, user, {
    name: platformName, scope: { kind: "platform" },
    benefit: { kind: "reduction", threshold: 30000, off: 5000 }, funding: { platform_bp: 10000, merchant_bp: 0 },
  });
  await coupon(request, user, {
    name: teaName, scope: { kind: "product", store_id: store, skus: ["tea"] },
    benefit: { kind: "reduction", threshold: 0, off: 800 }, funding: merchant,
  });

  await signIn(page);
  await page.getByRole("navigation").getByRole("link", { name: /结算沙盒|Checkout sandbox/ }).click();
  await expect(page.getByRole("heading", { level: 1, name: /结算沙盒|Checkout sandbox/ })).toBeVisible();
  await page.getByLabel(/会员 ID|User id/).fill(user);
  await page.getByRole("button", { name: /查看券包|Show wallet/ }).click();
  const wallet = page.getByRole("region", { name: /券包|Wallet/ });
  for (const name of [storeName, platformName, teaName]) await expect(wallet).toContainText(name);
  await expect(wallet).toContainText("满99减10");

  // Two lines of one store, and its shipping.
  const line1 = page.getByRole("group", { name: /商品行 1|Line 1/ });
  await line1.getByLabel(/SKU/).fill("tea");
  await line1.getByLabel(/店铺 ID|Store id/).fill(store);
  await line1.getByLabel(/单价|Unit price/).fill("120");
  await page.getByRole("button", { name: /添加商品行|Add a line/ }).click();
  const line2 = page.getByRole("group", { name: /商品行 2|Line 2/ });
  await line2.getByLabel(/SKU/).fill("milk");
  await line2.getByLabel(/店铺 ID|Store id/).fill(store);
  await line2.getByLabel(/单价|Unit price/).fill("30");
  await page.getByLabel(new RegExp(`店铺 ${store} 运费|Shipping for store ${store}`)).fill("8");

  // The best combination: the store coupon, 10.00 shared 8.00 / 2.00 over the lines by their base.
  const quote = page.getByRole("button", { name: /^(试算|Quote)$/ });
  await quote.click();
  const result = page.getByRole("region", { name: /试算结果|^Quote$/ });
  const chosen = result.getByRole("table").first();
  await expect(result).toContainText("¥150.00");
  await expect(result).toContainText("¥148.00");
  await expect(chosen.getByRole("row", { name: new RegExp(storeName) })).toContainText(/商品行 1（tea）：¥8\.00|Line 1 \(tea\): ¥8\.00/);
  await expect(chosen.getByRole("row", { name: new RegExp(storeName) })).toContainText(/商品行 2（milk）：¥2\.00|Line 2 \(milk\): ¥2\.00/);
  const left = result.getByRole("table").last();
  await expect(left.getByRole("row", { name: new RegExp(platformName) })).toContainText(/未达到使用门槛|does not reach/);
  await expect(left.getByRole("row", { name: new RegExp(teaName) })).toContainText(/最优组合不使用它|does better without it/);
  await noViolations(page);
  await shot(page, "sandbox-best");

  // Pin the tea coupon: it takes the tea line alone, and the store coupon is left out.
  await page.getByRole("checkbox", { name: new RegExp(`(指定使用|Pin) ${teaName}`) }).check();
  await expect(result).toContainText(/购物车已修改|cart changed/);
  await quote.click();
  await expect(chosen.getByRole("row", { name: new RegExp(teaName) })).toContainText(/商品行 1（tea）：¥8\.00|Line 1 \(tea\): ¥8\.00/);
  await expect(left.getByRole("row", { name: new RegExp(storeName) })).toBeVisible();
  await expect(result.locator("dd").last()).toHaveText("¥150.00");
  await shot(page, "sandbox-pinned");

  // Exclude the store coupon instead: the tea coupon again, and the store coupon "excluded".
  await page.getByRole("checkbox", { name: new RegExp(`(指定使用|Pin) ${teaName}`) }).uncheck();
  await page.getByRole("checkbox", { name: new RegExp(`(排除|Exclude) ${storeName}`) }).check();
  await quote.click();
  await expect(left.getByRole("row", { name: new RegExp(storeName) })).toContainText(/已被排除|Excluded/);
  await expect(chosen.getByRole("row", { name: new RegExp(teaName) })).toBeVisible();

  // Pinning a coupon this cart cannot take is refused, beside that coupon, in the person's language.
  const pinPlatform = page.getByRole("checkbox", { name: new RegExp(`(指定使用|Pin) ${platformName}`) });
  await pinPlatform.check();
  await quote.click();
  await expect(pinPlatform).toHaveAccessibleDescription(/指定的券不能用于此购物车|pinned coupon cannot be used/);
  await expect(line1.getByLabel(/SKU/)).toHaveValue("tea");
  await shot(page, "sandbox-pin-refused");

  // In English, the same quote reads in English, reasons included.
  await pinPlatform.uncheck();
  await page.getByLabel(/语言|Language/).selectOption("en");
  await page.getByRole("button", { name: "Quote", exact: true }).click();
  await expect(left.getByRole("row", { name: new RegExp(platformName) })).toContainText("The cart does not reach the coupon's threshold");
  await expect(left.getByRole("row", { name: new RegExp(storeName) })).toContainText("Excluded by you");
  await expect(chosen.getByRole("row", { name: new RegExp(teaName) })).toContainText("Line 1 (tea): ¥8.00");
  await shot(page, "sandbox-english");
});
