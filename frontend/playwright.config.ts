import { defineConfig } from "@playwright/test";

// Debian's Chromium (npx playwright install cannot download browsers here); the product is started by make test.
export default defineConfig({
  testDir: "./e2e",
  timeout: 240_000,
  // Deadlines, not delays: a passing wait returns at once. A busy two-core machine (the stack, a build and the
  // browser on the same cores) has taken 17 s to hydrate a page, so each wait allows several times that.
  expect: { timeout: 30_000 },
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results/playwright",
  use: {
    baseURL: process.env.CDCFLOW_UI_URL ?? "http://127.0.0.1:3000",
    viewport: { width: 1440, height: 1000 },
    trace: "retain-on-failure",
    actionTimeout: 45_000,
    navigationTimeout: 60_000,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    },
  },
});
