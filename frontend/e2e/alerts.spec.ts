// Alerts from the browser: a webhook channel answered by a local receiver, its "send test notification" button
// (the request arrives signed), a rule created and shown as people read it, then both deleted.
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test, type Page } from "@playwright/test";

const ADMIN = { username: process.env.CDCFLOW_ADMIN_USER ?? "admin", password: process.env.CDCFLOW_ADMIN_PASSWORD ?? "" };
const RUN = Math.random().toString(16).slice(2, 8);
const SECRET = `ui-secret-${RUN}-0123456789`;

type Received = { headers: IncomingMessage["headers"]; body: string };
const received: Received[] = [];
let server: Server;
let receiverUrl = "";

test.beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => { body += chunk; });
    req.on("end", () => { received.push({ headers: req.headers, body }); res.writeHead(200).end(); });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});

test.afterAll(async () => { await new Promise((resolve) => server.close(resolve)); });

async function pickOption(page: Page, label: string, option: string) {
  await page.getByLabel(label, { exact: true }).first().click();
  await page.getByRole("option", { name: option, exact: true }).click();
}

test("an admin sets up a channel, tests it, and adds a rule", async ({ page }) => {
  await page.goto("/login");
  await page.locator('input[name="username"]').fill(ADMIN.username);
  await page.locator('input[name="password"]').fill(ADMIN.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("current-user")).toHaveText(ADMIN.username);
  await page.getByRole("link", { name: "Alerts" }).click();
  await expect(page.getByRole("heading", { name: "Alerts" })).toBeVisible();

  const channel = `ui-hook-${RUN}`;
  await page.getByRole("button", { name: "New channel" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name").fill(channel);
  await dialog.getByLabel("URL").fill(receiverUrl);
  await dialog.getByLabel("Signing secret").fill(SECRET);
  await dialog.getByRole("button", { name: "Create channel" }).click();
  const row = page.getByTestId(`channel-${channel}`);
  await expect(row).toContainText("/…");
  await expect(row).not.toContainText("/hook");

  await row.getByRole("button", { name: "Send test notification" }).click();
  await expect(row.getByTestId("test-result")).toContainText("Delivered (HTTP 200)");
  const request = received.find((r) => r.headers["x-cdcflow-event"] === "alert.test");
  expect(request).toBeTruthy();
  const expected = createHmac("sha256", SECRET).update(`${request!.headers["x-cdcflow-timestamp"]}.${request!.body}`)
    .digest("hex");
  expect(request!.headers["x-cdcflow-signature"]).toBe(`sha256=${expected}`);

  const rule = `ui-lag-${RUN}`;
  await page.getByRole("button", { name: "New rule" }).click();
  const form = page.getByTestId("rule-form");
  await form.getByLabel("Name").fill(rule);
  await pickOption(page, "Condition", "Lag above N seconds");
  await form.getByLabel("Threshold (seconds)").fill("30");
  await page.getByRole("combobox", { name: "Notify" }).click();
  await page.getByRole("option", { name: `${channel} (webhook)` }).click();
  await page.keyboard.press("Escape");
  await form.getByRole("button", { name: "Create rule" }).click();
  const ruleRow = page.getByTestId(`rule-${rule}`);
  await expect(ruleRow).toContainText("Lag above 30 seconds");
  await expect(ruleRow).toContainText("Every pipeline");
  await expect(ruleRow).toContainText(channel);
  await page.screenshot({ path: "test-results/screens/alerts.png", fullPage: true });

  for (const testId of [`rule-${rule}`, `channel-${channel}`]) {
    await page.getByTestId(testId).getByRole("button", { name: "Delete" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await expect(page.getByTestId(testId)).toHaveCount(0);
  }
});
