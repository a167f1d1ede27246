// End-to-end tests in Debian's Chromium against a real `quan serve` (SQLite in a fresh folder,
// or QUAN_E2E_DATABASE_URL). QUAN_BIN names the binary (default: the workspace's debug build).
import { defineConfig } from "@playwright/test";

const port = Number(process.env.QUAN_E2E_PORT ?? 18480);
const bin = process.env.QUAN_BIN ?? "../target/debug/quan";
const dir = `.e2e/${port}`;
const db = process.env.QUAN_E2E_DATABASE_URL ?? `sqlite://${dir}/quan.db`;

export default defineConfig({
  testDir: "e2e",
  outputDir: `test-results/${port}`,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: "chromium",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
    trace: "off",
  },
  webServer: {
    command: `rm -rf ${dir} && mkdir -p ${dir} && exec ${bin} serve --listen 127.0.0.1:${port} --database-url ${db} --public-url http://127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: { QUAN_ADMIN_KEY: "e2e-admin-key", QUAN_CAMPAIGN_TICK_MS: "100" },
    stdout: "ignore",
    stderr: "pipe",
  },
});
