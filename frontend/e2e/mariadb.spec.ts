// MariaDB from the browser, against the stack's real MariaDB: create a MariaDB connection (the form offers the
// database type and its default port), Test it (the binlog checks), see a wrong password fail clearly, and see the
// wizard's review run the MariaDB preflight for the picked tables.
import { expect, test, type Page } from "@playwright/test";

const API = process.env.CDCFLOW_API_URL ?? "http://127.0.0.1:8000";
const SOURCE = new URL(process.env.MARIADB_DEMO_SOURCE_DSN ?? "mariadb://missing@127.0.0.1:1/missing");
const ADMIN = { username: process.env.CDCFLOW_ADMIN_USER ?? "admin", password: process.env.CDCFLOW_ADMIN_PASSWORD ?? "" };
const RUN = Math.random().toString(16).slice(2, 8);

async function login(page: Page) {
  await page.goto("/login");
  await page.locator('input[name="username"]').fill(ADMIN.username);
  await page.locator('input[name="password"]').fill(ADMIN.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("current-user")).toHaveText(ADMIN.username);
}

async function pickOption(page: Page, label: string, option: string) {
  await page.getByLabel(label, { exact: true }).first().click();
  await page.getByRole("option", { name: option, exact: true }).click();
}

async function createMariaDb(page: Page, name: string, password: string) {
  await page.getByRole("button", { name: "New connection" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.locator('input[name="name"]').fill(name);
  await pickOption(page, "Type", "source");
  await expect(dialog.locator('input[name="port"]')).toHaveValue("5432");
  await pickOption(page, "Database type", "MariaDB");
  // The default port follows the database type, and MariaDB has no schema field (the database is the schema).
  await expect(dialog.locator('input[name="port"]')).toHaveValue("3306");
  await expect(dialog.locator('input[name="schema"]')).toHaveCount(0);
  await dialog.locator('input[name="host"]').fill(SOURCE.hostname);
  await dialog.locator('input[name="port"]').fill(SOURCE.port);
  await dialog.locator('input[name="database"]').fill(SOURCE.pathname.slice(1));
  await dialog.locator('input[name="username"]').fill(decodeURIComponent(SOURCE.username));
  await dialog.locator('input[name="password"]').fill(password);
  await dialog.getByRole("button", { name: "Save" }).click();
  const row = page.getByTestId(`connection-${name}`);
  await expect(row).toBeVisible();
  await expect(row.getByTestId("database-type")).toHaveText("MariaDB");
  return row;
}

const created: string[] = [];

test.afterAll(async () => {
  const res = await fetch(`${API}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(ADMIN) });
  const token = ((await res.json()) as { access_token: string }).access_token;
  const list = await fetch(`${API}/api/v1/connections`, { headers: { Authorization: `Bearer ${token}` } });
  for (const c of ((await list.json()) as { items: { id: string; name: string }[] }).items) {
    if (created.includes(c.name)) {
      await fetch(`${API}/api/v1/connections/${c.id}`, { method: "DELETE", headers: { Authorization: `Bearer ${token}` } });
    }
  }
});

test("a MariaDB connection is created, tested and preflighted from the browser", async ({ page }) => {
  await login(page);
  await page.goto("/connections");

  const good = `UI MariaDB ${RUN}`;
  created.push(good);
  const row = await createMariaDb(page, good, decodeURIComponent(SOURCE.password));
  await row.getByRole("button", { name: "Test" }).click();
  const result = row.getByTestId("test-result");
  await expect(result).toContainText("OK");
  await expect(result).toContainText("MariaDB");
  for (const check of ["log_bin", "binlog_format", "binlog_row_image", "replication_privileges"]) {
    await expect(result.locator(`[data-check="${check}"]`)).toHaveAttribute("data-ok", "true");
  }
  await expect(result).toContainText("binlog_format is ROW");

  const bad = `UI MariaDB bad ${RUN}`;
  created.push(bad);
  const badRow = await createMariaDb(page, bad, "not-the-password");
  await badRow.getByRole("button", { name: "Test" }).click();
  await expect(badRow.getByTestId("test-result")).toContainText("Failed");
  await expect(badRow.getByTestId("test-result")).toContainText("Authentication failed: wrong username or password");
  await expect(page.locator("body")).not.toContainText("not-the-password");

  // The wizard: a MariaDB source lists its tables with their row image, and the review runs its preflight.
  await page.goto("/pipelines/new");
  await page.getByLabel("Pipeline name").fill(`ui-maria-${RUN}`);
  await pickOption(page, "Source", good);
  await pickOption(page, "Target", "Demo MariaDB target");
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.getByTestId("binlog-note")).toBeVisible();
  await page.getByRole("checkbox", { name: "shop.orders" }).check();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("button", { name: "Next" }).click();
  const source = page.getByTestId("preflight-source");
  await expect(source).toContainText("OK");
  await expect(source.locator('[data-check="primary_keys"]')).toHaveAttribute("data-ok", "true");
  await expect(source.locator('[data-check="binlog_row_image"]')).toContainText("FULL");
  await expect(page.getByTestId("preflight-target").locator('[data-check="create_privilege"]'))
    .toHaveAttribute("data-ok", "true");
});
