// Times every console page and the member pages in Debian's Chromium against a running quan:
// each page is opened cold (a new browser context, no cache) `RUNS` times; a page is
// interactive when its document has loaded and its last request (scripts, styles, every API
// call it makes) has answered, read from the page's own performance entries once the network
// is idle. Also sums the bytes the claim page's first load transfers, and saves a screenshot of
// each page's last load as screens/cj-<page>.png.
//
//   node bench/pages.mjs <base url> <admin key> [runs]
import { chromium } from "@playwright/test";

const [base, key, runsArg] = process.argv.slice(2);
if (!base || !key) {
  console.error("usage: node bench/pages.mjs <base url> <admin key> [runs]");
  process.exit(2);
}
const RUNS = Number(runsArg ?? 5);
const api = async (method, path, body) => {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
};

// What the pages show: an existing template, member, segment and campaign.
const templates = await api("GET", "/v1/templates?limit=1");
const template = templates.items[0]?.id;
const members = await api("GET", "/v1/members?limit=1");
const member = members.items[0]?.id;
const segments = await api("GET", "/v1/segments?limit=1");
const segment = segments.items[0]?.id;
const campaigns = await api("GET", "/v1/campaigns?limit=1");
const campaign = campaigns.items[0]?.id;
const link = template ? await api("POST", `/v1/templates/${template}/links`, {}) : null;
const customer = member ? await api("POST", "/v1/keys", { role: "customer", user_id: member }) : null;

const pages = [
  ["dashboard", "/console/"],
  ["templates", "/console/templates"],
  template && ["template detail", `/console/templates/${template}`],
  ["template form", "/console/templates/new"],
  ["sandbox", "/console/sandbox"],
  ["members", "/console/members"],
  member && ["member 360", `/console/members/${encodeURIComponent(member)}`],
  ["segments", "/console/segments"],
  segment && ["segment", `/console/segments/${segment}`],
  ["segment builder", "/console/segments/new"],
  ["campaigns", "/console/campaigns"],
  campaign && ["campaign", `/console/campaigns/${campaign}`],
  link && ["claim page", new URL(link.url).pathname + new URL(link.url).search],
  customer && ["coupon center", "/center"],
].filter(Boolean);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});

async function open(path, console, screenshot) {
  const context = await browser.newContext({ baseURL: base });
  if (console) {
    await context.addInitScript((k) => {
      sessionStorage.setItem("quan.console.session", JSON.stringify({ key: k, role: "platform", store_ids: [], user_id: null }));
    }, key);
  } else if (customer) {
    await context.addInitScript((t) => localStorage.setItem("quan.member.token", t), customer.key);
  }
  const page = await context.newPage();
  let bytes = 0;
  page.on("response", async (r) => {
    const s = await r.request().sizes().catch(() => null);
    if (s) bytes += s.responseBodySize + s.responseHeadersSize;
  });
  await page.goto(path, { waitUntil: "networkidle" });
  const ms = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const last = Math.max(0, ...performance.getEntriesByType("resource").map((e) => e.responseEnd));
    return Math.max(nav.domContentLoadedEventEnd, nav.loadEventEnd, last);
  });
  const text = await page.locator("body").innerText();
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  await context.close();
  return { ms, bytes, text };
}

const rows = [];
for (const [name, path] of pages) {
  const console = path.startsWith("/console");
  const times = [];
  let bytes = 0;
  let text = "";
  for (let i = 0; i < RUNS; i++) {
    const shot = i === RUNS - 1 ? `screens/cj-${name.replaceAll(" ", "-")}.png` : null;
    const r = await open(path, console, shot);
    times.push(r.ms);
    bytes = r.bytes;
    text = r.text;
  }
  times.sort((a, b) => a - b);
  if (/出错了|Something went wrong|不存在或无权查看/.test(text)) throw new Error(`${name} shows an error: ${text.slice(0, 200)}`);
  rows.push({ page: name, path, median_ms: Math.round(times[times.length >> 1]), max_ms: Math.round(times.at(-1)), kb: (bytes / 1024).toFixed(1) });
}
await browser.close();
console.table(rows);
console.log(JSON.stringify(rows));
