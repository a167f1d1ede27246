// The review loop in the console: a campaign's review (funnel, cost, forecast against actual,
// the holdout's uplift, the CSV), the forecast while building, and the calculators, each read
// in Chinese and in English.
import { expect, test, type Page } from "@playwright/test";
import { activeTemplate, api, noViolations, shot, signIn, unique } from "./support";

async function english(page: Page) {
  await page.getByLabel(/语言|Language/).selectOption("en");
}

/** A campaign_only 10.00-off coupon granted to `n` new members by a `once` campaign with a holdout. */
async function campaignWithHoldout(request: Parameters<typeof api>[0], n: number) {
  const tpl = await activeTemplate(request, {
    name: unique("复盘券-"), scope: { kind: "platform" },
    benefit: { kind: "reduction", threshold: 0, off: 1000 }, validity: { kind: "relative", days: 30 },
    distribution: ["campaign_only"], funding: { platform_bp: 6000, merchant_bp: 4000 },
  });
  const segment = await api(request, "POST", "/v1/segments", {
    name: unique("复盘人群-"),
    member_ids: await Promise.all(
      Array.from({ length: n }, async () => {
        const id = unique("rv-");
        await api(request, "PUT", `/v1/members/${id}`, { joined_at: "2026-01-01T00:00:00Z" });
        return id;
      }),
    ),
  });
  const name = unique("复盘活动-");
  const c = await api(request, "POST", "/v1/campaigns", {
    name, trigger: { kind: "once" }, audience: { kind: "segment", segment_id: segment.id }, holdout_bp: 5000,
    attribution_days: 7, actions: [{ kind: "grant", template_id: tpl.id }],
  });
  await api(request, "POST", `/v1/campaigns/${c.id}/activate`);
  // The worker enters the audience in the background, then treats (or holds out) each entry.
  await expect
    .poll(async () => {
      const s = (await api(request, "GET", `/v1/campaigns/${c.id}`)).stats;
      return s.treated + s.held_out;
    }, { timeout: 15_000 })
    .toBe(n);
  return { id: c.id as string, name, tpl };
}

test("a campaign's review: funnel, cost by funder, forecast against actual, uplift, CSV, in both languages", async ({ page, request }) => {
  const { id, name } = await campaignWithHoldout(request, 30);
  const treated = (await api(request, "GET", `/v1/campaigns/${id}/members?status=treated`)).items;
  expect(treated.length).toBeGreaterThan(0);
  // One treated member buys with the coupon: 80.00 less 10.00.
  const user = treated[0].user_id;
  const coupon = (await api(request, "GET", `/v1/users/${user}/coupons`)).items[0].id;
  const order = unique("rv-order-");
  await api(request, "POST", "/v1/orders", {
    order_id: order, user_id: user, coupon_ids: [coupon],
    lines: [{ line_id: "1", sku: "tea", store_id: "s1", unit_price: 8000, qty: 1 }],
  });
  await api(request, "POST", `/v1/orders/${order}/pay`, {});

  await signIn(page);
  await page.goto(`/console/campaigns/${id}`);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  const review = page.getByRole("region", { name: "活动复盘" });
  const funnel = review.getByRole("table", { name: "转化漏斗" });
  await expect(funnel.getByRole("row", { name: /^进入/ })).toContainText("30");
  await expect(funnel.getByRole("row", { name: /^核销/ })).toContainText("1");
  await expect(review.getByRole("definition").filter({ hasText: "¥10.00" }).first()).toBeVisible();
  const funders = review.getByRole("table", { name: "按出资方" });
  await expect(funders.getByRole("row", { name: /平台/ })).toContainText("¥6.00");
  await expect(funders.getByRole("row", { name: /商家/ })).toContainText("¥4.00");
  const forecast = review.getByRole("table", { name: "预估与实际" });
  await expect(forecast.getByRole("row", { name: /^使用张数/ })).toContainText("1");
  await expect(review.getByText(/使用率来源/)).toBeVisible();
  const uplift = review.getByRole("table", { name: "增量（对照组）" });
  await expect(uplift.getByRole("row", { name: /^实验组/ })).toContainText(String(treated.length));
  await expect(review.getByRole("table", { name: "95% 置信区间" }).getByRole("row", { name: /^转化率提升/ })).toBeVisible();
  await noViolations(page);
  await shot(page, "campaign-review");

  // The CSV has every figure, one a line.
  const download = page.waitForEvent("download");
  await review.getByRole("button", { name: "下载 CSV" }).click();
  const file = await (await download).path();
  const text = await (await import("node:fs/promises")).readFile(file, "utf8");
  expect(text).toContain("funnel.used,1\r\n");
  expect(text).toContain("cost.discount_given,1000\r\n");

  await english(page);
  const en = page.getByRole("region", { name: "Campaign review" });
  await expect(en.getByRole("table", { name: "Funnel" }).getByRole("row", { name: /^Coupons used/ })).toContainText("1");
  await expect(en.getByRole("table", { name: "By funder" }).getByRole("row", { name: /Merchant/ })).toContainText("¥4.00");
  await expect(en.getByRole("table", { name: "Forecast against actual" }).getByRole("row", { name: /^Coupons issued/ })).toBeVisible();
  await expect(en.getByRole("table", { name: "Incrementality (holdout)" }).getByRole("row", { name: /^Held out/ })).toBeVisible();
  await noViolations(page);
});

test("the forecast while building a campaign", async ({ page, request }) => {
  const tpl = await activeTemplate(request, {
    name: unique("预估券-"), scope: { kind: "platform" },
    benefit: { kind: "reduction", threshold: 9900, off: 1000 }, validity: { kind: "relative", days: 7 },
    distribution: ["campaign_only"], funding: { platform_bp: 10000, merchant_bp: 0 },
  });
  await signIn(page);
  await page.goto("/console/campaigns/new");
  const panel = page.getByRole("region", { name: "活动前预估" });
  await expect(panel.getByRole("button", { name: "预估成本与效果" })).toBeDisabled();
  await page.getByRole("group", { name: "动作 1" }).getByLabel("券模板").selectOption(tpl.id);
  await panel.getByRole("button", { name: "预估成本与效果" }).click();
  const row = panel.getByRole("row", { name: new RegExp(tpl.name) });
  await expect(row).toContainText("¥");
  await expect(row).toContainText("%");
  await noViolations(page);
  await english(page);
  const en = page.getByRole("region", { name: "Forecast before launch" });
  await en.getByRole("button", { name: "Forecast cost and return" }).click();
  await expect(en.getByRole("row", { name: new RegExp(tpl.name) })).toContainText(/the tenant's|similar|assumed|model/);
});

test("the calculators: margin, LTV, threshold from the orders, pack against CAC, the lottery's 20% rule", async ({ page, request }) => {
  const category = unique("e2e-baby-");
  const buyer = unique("calc-");
  await api(request, "PUT", `/v1/members/${buyer}`, { joined_at: "2026-01-01T00:00:00Z" });
  await api(request, "PUT", `/v1/orders/${unique("calc-o-")}`, {
    user_id: buyer, paid_at: new Date(Date.now() - 86_400_000).toISOString(), status: "paid",
    lines: [{ line_id: "1", sku: "milk", store_id: "s1", category, qty: 2, amount: 24000 }],
  });
  const tpl = await activeTemplate(request, {
    name: unique("新客券29-10-"), scope: { kind: "platform" },
    benefit: { kind: "reduction", threshold: 2900, off: 1000 }, validity: { kind: "relative", days: 7 },
    distribution: ["campaign_only"], funding: { platform_bp: 10000, merchant_bp: 0 },
  });

  await signIn(page);
  await page.getByRole("navigation").getByRole("link", { name: "经营计算器" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "经营计算器" })).toBeVisible();

  const ltv = page.getByRole("region", { name: "LTV（按 RFM 分层）" });
  await ltv.getByLabel("毛利率 %").fill("25");
  await ltv.getByRole("button", { name: "保存毛利率" }).click();
  await expect(ltv.getByRole("status")).toHaveText("已保存");
  await ltv.getByRole("button", { name: "计算" }).click();
  await expect(ltv.getByRole("row", { name: /^所有购买者/ })).toBeVisible();

  const threshold = page.getByRole("region", { name: "按品类结构设计门槛" });
  await threshold.getByRole("textbox", { name: "品类" }).fill(category);
  await threshold.getByRole("button", { name: "计算" }).click();
  await expect(threshold.getByRole("status")).toHaveText("建议门槛：¥120.00");
  await expect(threshold.getByText(/来自订单/)).toBeVisible();

  const pack = page.getByRole("region", { name: "券包成本对比 CAC" });
  await pack.getByLabel("券模板 ID（逗号分隔）").fill(tpl.id);
  await pack.getByLabel(/^LTV/).fill("65");
  await pack.getByRole("button", { name: "计算" }).click();
  await expect(pack.getByRole("status")).toHaveText("券包面值 ¥10.00，预计成本 ¥3.00，上限 ¥52.00 · 在上限之内");

  const lottery = page.getByRole("region", { name: "抽奖大奖触达（二八原则）" });
  await lottery.getByRole("button", { name: "计算" }).click();
  await expect(lottery.getByRole("status")).toContainText("大奖触达 10.00% 的参与者");
  await expect(lottery.getByRole("status")).toContainText("大奖触达不足 20% 的参与者");
  await noViolations(page);
  await shot(page, "calculators");

  await english(page);
  await expect(page.getByRole("heading", { level: 1, name: "Calculators" })).toBeVisible();
  const en = page.getByRole("region", { name: "Lottery big-prize reach (the 20% rule)" });
  await en.getByRole("group", { name: "Prize 1" }).getByLabel("Weight").fill("2");
  await en.getByRole("group", { name: "Prize 2" }).getByLabel("Weight").fill("8");
  await en.getByRole("button", { name: "Compute" }).click();
  await expect(en.getByRole("status")).toHaveText("A big prize reaches 20.00% of participants · Meets the 20% rule");
  // The margin was kept.
  await page.reload();
  await expect(page.getByRole("region", { name: "LTV (by RFM tier)" }).getByLabel("Gross margin %")).toHaveValue("25");
  await noViolations(page);
});

test("a template's review: claimed, used, given, by route and campaign, in both languages", async ({ page, request }) => {
  const tpl = await activeTemplate(request, {
    name: unique("券复盘-"), scope: { kind: "platform" },
    benefit: { kind: "reduction", threshold: 0, off: 500 }, validity: { kind: "relative", days: 7 },
    distribution: ["public"], funding: { platform_bp: 10000, merchant_bp: 0 },
  });
  const codes: string[] = [];
  for (const _ of [1, 2]) {
    const c = await api(request, "POST", `/v1/templates/${tpl.id}/claim`, { user_id: unique("tr-") });
    codes.push(c.code);
  }
  await api(request, "POST", "/v1/coupons/redeem", { code: codes[0], store_id: "s1", amount: 3000 });

  await signIn(page);
  await page.goto(`/console/templates/${tpl.id}`);
  const review = page.getByRole("region", { name: "券复盘" });
  const totals = review.getByRole("definition");
  await expect(review.getByText("领取张数").first()).toBeVisible();
  await expect(totals.nth(0)).toHaveText("2");
  await expect(totals.nth(1)).toHaveText("1");
  await expect(totals.nth(2)).toHaveText("50.00%");
  await expect(totals.nth(4)).toHaveText("¥5.00");
  await expect(review.getByRole("table", { name: "按领取渠道" }).getByRole("row", { name: /^public/ })).toContainText("2");
  await expect(review.getByRole("table", { name: "按活动" }).getByRole("row", { name: /非活动发放/ })).toBeVisible();
  await noViolations(page);
  await english(page);
  const en = page.getByRole("region", { name: "Template review" });
  await expect(en.getByRole("table", { name: "By campaign" }).getByRole("row", { name: /outside campaigns/ })).toContainText("¥5.00");
  await noViolations(page);
});
