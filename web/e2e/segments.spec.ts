// Segments: build a rule (orders ≥ 1, then and bought a category), its live size matching the
// API's count as the rule changes, save it, see its members and export them as CSV.
import { expect, test, type Download } from "@playwright/test";
import { readFile } from "node:fs/promises";
import { api, noViolations, shot, signIn, unique } from "./support";

async function csvLines(d: Download): Promise<string[]> {
  return (await readFile((await d.path())!, "utf8")).split(/\r?\n/).filter(Boolean);
}

test("a rule segment from the builder with its live size, its members and their CSV", async ({ page, request }) => {
  const category = unique("cat");
  const store = unique("s");
  const buyers = [unique("seg-a-"), unique("seg-b-")];
  const paidAt = new Date(Date.now() - 86_400_000).toISOString();
  for (const [i, user] of [...buyers, unique("seg-other-")].entries()) {
    await api(request, "PUT", `/v1/members/${user}`, { tier: "silver" });
    await api(request, "PUT", `/v1/orders/${unique("SEG-")}`, {
      user_id: user, paid_at: paidAt, status: "paid",
      lines: [{ line_id: "1", sku: "x", store_id: store, category: i < 2 ? category : "other", qty: 1, amount: 2000 }],
    });
  }
  const ordered = await api(request, "POST", "/v1/segments/preview", { rule: { kind: "and", rules: [{ kind: "orders", min: 1 }] } });

  await signIn(page);
  await page.getByRole("navigation").getByRole("link", { name: /人群|Segments/ }).click();
  await page.getByRole("link", { name: /新建规则人群|New rule segment/ }).click();
  await expect(page.getByRole("heading", { level: 1, name: /新建规则人群|New rule segment/ })).toBeVisible();

  // The first condition is "orders ≥ 1": the live size is the API's count of buyers.
  const size = page.getByRole("status");
  await expect(size).toHaveText(new RegExp(`^${ordered.size} (人|members)$`));
  await shot(page, "segments-builder-orders");

  // And bought the category within 30 days: the two buyers.
  await page.getByRole("button", { name: /添加条件到 条件组 1$|Add a condition to Group 1$/ }).click();
  const second = page.getByRole("group", { name: /^(条件 1\.2|Condition 1\.2)$/ });
  await second.getByLabel(/条件类型|Condition/).selectOption("bought");
  await expect(size).toHaveText(/请先填完所有条件|Complete every condition/);
  await second.getByLabel(/^(品类|Category)$/).fill(category);
  await second.getByLabel(/^(最近几天内|Within the last N days)$/).fill("30");
  await expect(size).toHaveText(/^2 (人|members)$/);

  // A refused value shows beside its field: 0 days.
  await second.getByLabel(/^(最近几天内|Within the last N days)$/).fill("0");
  await expect(second.getByLabel(/^(最近几天内|Within the last N days)$/)).toHaveAccessibleDescription(/取值不符合规则|breaks a rule/);
  await second.getByLabel(/^(最近几天内|Within the last N days)$/).fill("30");
  await expect(size).toHaveText(/^2 (人|members)$/);

  const name = unique("近30天买过-");
  await page.getByLabel(/^(名称|Name)$/).fill(name);
  await noViolations(page);
  await shot(page, "segments-builder");
  await page.getByRole("button", { name: /^(保存|Save)$/ }).click();

  // Its members page: both buyers, and a CSV of them.
  await expect(page.getByRole("heading", { level: 1, name: new RegExp(name) })).toBeVisible();
  await expect(page.getByText(/共 2 人|2 members/)).toBeVisible();
  for (const b of buyers) await expect(page.getByRole("link", { name: b })).toBeVisible();
  const id = decodeURIComponent(page.url().split("/").pop()!);
  const saved = await api(request, "GET", `/v1/segments/${id}`);
  expect(saved.rule).toMatchObject({
    kind: "and",
    rules: [{ kind: "orders", min: 1 }, { kind: "bought", category, within_days: 30 }],
  });
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: /导出 CSV|Export CSV/ }).click(),
  ]);
  const rows = await csvLines(download);
  expect(rows[0]).toMatch(/^id,/);
  expect(rows.slice(1).map((r) => r.split(",")[0]).sort()).toEqual([...buyers].sort());
  await noViolations(page);
  await shot(page, "segments-members");

  // Listed, and open again in the builder with its rule.
  await page.getByRole("link", { name: /返回人群列表|Back to segments/ }).click();
  await page.getByRole("link", { name: new RegExp(`(编辑|Edit) ${name}`) }).click();
  await expect(page.getByRole("group", { name: /^(条件 1\.2|Condition 1\.2)$/ }).getByLabel(/^(品类|Category)$/)).toHaveValue(category);
  await expect(page.getByRole("status")).toHaveText(/^2 (人|members)$/);
});
