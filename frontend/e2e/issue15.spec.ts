// Issue 15 from the browser, against the real stack: one test per web-app bug (each failed before its fix), then
// the new views: the event inspector shows the before/after of an UPDATE this test makes, and row history lists
// exactly this test's insert, update and delete of one key, in order.
import { expect, test, type Page } from "@playwright/test";
import { ADMIN, Api, SLOW, login, pgConnection, rows as selectRows, sql, until } from "./support";

const RUN = Math.random().toString(16).slice(2, 8);
const SCHEMA = `i15_${RUN}`;

async function makeUser(role: string, label: string) {
  const user = { username: `i15-${label}-${RUN}`, password: `pw-${RUN}-long-enough`, role };
  const created = await call("POST", "/users", user);
  expect(created.status).toBe(201);
  return { ...user, id: created.body.id as string };
}

async function pickOption(page: Page, label: string, option: string) {
  await page.getByLabel(label, { exact: true }).first().click();
  await page.getByRole("option", { name: option, exact: true }).click();
}

let source = "";
let target = "";
const api = new Api();
const call = api.call;
let live = "";  // the running pipeline of the inspector test, reused by the later ones

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  await api.login();
  await sql("demo_source", `CREATE SCHEMA ${SCHEMA};
    CREATE TABLE ${SCHEMA}.accounts (id int PRIMARY KEY, email text NOT NULL, tier text, balance numeric(10,2));`);
  const conn = (name: string, kind: string, database: string) =>
    call("POST", "/connections", pgConnection(name, kind, database));
  const s = await conn(`i15 source ${RUN}`, "source", "demo_source");
  const t = await conn(`i15 target ${RUN}`, "target", "demo_target");
  expect(s.status).toBe(201);
  expect(t.status).toBe(201);
  source = s.body.id;
  target = t.body.id;
});

test.afterAll(async () => {
  if (live) {
    await call("POST", `/pipelines/${live}/stop`);
    await until("stopped", async () => ["STOPPED", "ERROR"].includes((await call("GET", `/pipelines/${live}`)).body.status),
      120_000).catch(() => undefined);
    await call("DELETE", `/pipelines/${live}?force=true`);
  }
  await sql("demo_source", `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await sql("demo_target", `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
});

test("bug 1: a connection saves unchanged from its Edit dialog", async ({ page }) => {
  await login(page, ADMIN.username, ADMIN.password);
  await page.goto("/connections");
  const row = page.getByTestId(`connection-i15 source ${RUN}`);
  await row.getByRole("button", { name: "Edit" }).click();
  const dialog = page.getByRole("dialog", { name: "Edit connection" });
  const saved = page.waitForResponse((r) => r.url().includes(`/connections/${source}`) && r.request().method() === "PUT");
  await dialog.getByRole("button", { name: "Save" }).click();
  expect((await saved).status()).toBe(200);
  await expect(dialog).toBeHidden(SLOW);
  await expect(page.locator(".mantine-Alert-root")).toHaveCount(0);  // (Next's route announcer is an alert too)
  await expect(page.getByText("Extra inputs")).toHaveCount(0);
});

test("bug 2: no admin deactivates or demotes themself; deactivating anyone asks first", async ({ page }) => {
  const me = (await call("GET", "/auth/me")).body;
  // The API refuses, whatever the UI does.
  expect((await call("PUT", `/users/${me.id}`, { active: false })).status).toBe(409);
  expect((await call("PUT", `/users/${me.id}`, { role: "viewer" })).status).toBe(409);
  const other = await makeUser("operator", "victim");

  await login(page, ADMIN.username, ADMIN.password);
  await page.goto("/settings/users");
  const mine = page.getByTestId(`user-${ADMIN.username}`);
  await expect(mine.getByRole("switch")).toBeDisabled(SLOW);
  await expect(mine.locator(`input[aria-label="Role of ${ADMIN.username}"]`)).toBeDisabled();

  const theirs = page.getByTestId(`user-${other.username}`);
  await theirs.getByRole("switch").click({ force: true });
  const confirm = page.getByRole("dialog", { name: "Deactivate user?" });
  await expect(confirm).toBeVisible();
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(confirm).toBeHidden();
  expect((await call("GET", `/users/${other.id}`)).body.active).toBe(true);
  await theirs.getByRole("switch").click({ force: true });
  await page.getByRole("dialog", { name: "Deactivate user?" }).getByRole("button", { name: "Deactivate" }).click();
  await until("the user deactivated", async () => (await call("GET", `/users/${other.id}`)).body.active === false);
  await expect(theirs.getByRole("switch")).not.toBeChecked();
  // Still logged in.
  await expect(page.getByTestId("current-user")).toHaveText(ADMIN.username);
});

test("bug 3: each wizard step and form explains a bad value inline, in words", async ({ page }) => {
  await login(page, ADMIN.username, ADMIN.password);
  await page.goto("/pipelines/new");
  await page.getByLabel("Pipeline name").fill("bad/name!");
  await expect(page.getByText("Pipeline name may contain only letters, digits, spaces and _ . - (not / !)"))
    .toBeVisible(SLOW);
  await expect(page.getByText("^[A-Za-z0-9]")).toHaveCount(0);
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.getByText("Pick the source connection")).toBeVisible();
  await expect(page.getByTestId("tables-picker")).toHaveCount(0);

  await page.goto("/connections");
  await page.getByRole("button", { name: "New connection" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.locator('input[name="port"]').fill("99999");
  await dialog.locator('input[name="port"]').blur();
  await expect(dialog.getByText("Port must be between 1 and 65535 (not 99999)")).toBeVisible();
  await expect(dialog.locator('input[name="port"]')).toHaveValue("99999");  // not clamped to 65535
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog).toBeVisible();  // nothing was sent
  await dialog.getByRole("button", { name: "Cancel" }).click();

  await page.goto("/settings/users");
  await page.locator('input[name="new-password"]').fill("short");
  await expect(page.getByText("Password must be at least 8 characters (5 now)")).toBeVisible(SLOW);
});

test("bug 5: lists show a skeleton, not 'No pipelines yet.', until the answer arrives", async ({ page }) => {
  await login(page, ADMIN.username, ADMIN.password);
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => { release = r; });
  await page.route(/\/api\/v1\/pipelines\?/, async (route) => { await held; await route.continue(); });
  await page.goto("/pipelines");
  await expect(page.getByTestId("loading-skeleton")).toBeVisible(SLOW);
  await expect(page.getByText("No pipelines yet.")).toHaveCount(0);
  release();
  await expect(page.getByTestId("loading-skeleton")).toHaveCount(0, SLOW);
});

test("bug 6: a deleted pipeline's page says so, without 'Loading…' forever", async ({ page }) => {
  const created = await call("POST", "/pipelines", { name: `i15-gone-${RUN}`, source_connection_id: source,
    target_connection_id: target, mode: "cdc_only", tables: [`${SCHEMA}.accounts`] });
  expect(created.status).toBe(201);
  expect((await call("DELETE", `/pipelines/${created.body.id}`)).status).toBe(204);
  await login(page, ADMIN.username, ADMIN.password);
  await page.goto(`/pipelines/${created.body.id}`);
  await expect(page.getByTestId("pipeline-missing")).toContainText("Pipeline not found", SLOW);
  await expect(page.getByRole("link", { name: "Back to pipelines" })).toBeVisible();
  await expect(page.getByText("Loading…")).toHaveCount(0);
});

test("bug 9: a viewer gets no wizard to fill", async ({ page }) => {
  const viewer = await makeUser("viewer", "viewer");
  await login(page, viewer.username, viewer.password);
  await page.goto("/pipelines");
  await expect(page.getByTestId("pipelines-table")).toBeVisible(SLOW);
  await expect(page.getByRole("link", { name: "New pipeline" })).toHaveCount(0);
  await page.goto("/pipelines/new");
  await expect(page.getByTestId("wizard-forbidden")).toContainText("Viewers cannot create pipelines", SLOW);
  await expect(page.getByLabel("Pipeline name")).toHaveCount(0);
});

test("bug 10: browser Back and Forward move between wizard steps and keep the answers", async ({ page }) => {
  await login(page, ADMIN.username, ADMIN.password);
  await page.goto("/pipelines");
  await page.getByRole("link", { name: "New pipeline" }).click();
  await expect(page).toHaveURL(/\/pipelines\/new/, SLOW);
  await page.getByLabel("Pipeline name").fill(`i15-wizard-${RUN}`);
  await pickOption(page, "Source", `i15 source ${RUN}`);
  await pickOption(page, "Target", `i15 target ${RUN}`);
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page).toHaveURL(/step=1/);
  // The picker shows the connection's schema (public here) until asked for every schema (issue 24, bug 3).
  await page.getByTestId("every-schema").click();
  await expect(page.getByRole("checkbox", { name: `${SCHEMA}.accounts` })).toBeVisible(SLOW);
  await page.getByRole("checkbox", { name: `${SCHEMA}.accounts` }).check();
  await page.goBack();
  await expect(page).not.toHaveURL(/step=1/);
  await expect(page.getByLabel("Pipeline name")).toHaveValue(`i15-wizard-${RUN}`, SLOW);
  await page.goBack();  // out of the wizard, to the list
  await expect(page).toHaveURL(/\/pipelines$/, SLOW);
  await page.goForward();
  await expect(page.getByLabel("Pipeline name")).toHaveValue(`i15-wizard-${RUN}`, SLOW);
  await page.goForward();
  await expect(page).toHaveURL(/step=1/, SLOW);
  await expect(page.getByRole("checkbox", { name: `${SCHEMA}.accounts` })).toBeChecked(SLOW);
  // A full reload of the step keeps the answers too.
  await page.reload();
  await expect(page.getByRole("checkbox", { name: `${SCHEMA}.accounts` })).toBeChecked(SLOW);
});

test("bug 12: the users form has a usable password field and users can be deleted", async ({ page }) => {
  const doomed = await makeUser("viewer", "doomed");
  await login(page, ADMIN.username, ADMIN.password);
  await page.goto("/settings/users");
  const field = page.locator('input[name="new-password"]');
  await expect(field).toBeVisible(SLOW);
  expect((await field.boundingBox())!.width).toBeGreaterThanOrEqual(180);
  await page.locator('input[name="new-username"]').fill(`i15-new-${RUN}`);
  await field.fill("short");
  await page.getByRole("button", { name: "Add user" }).click();
  // The rule shows under the field, not as a raw API message at the top.
  await expect(page.getByText("Password must be at least 8 characters (5 now)")).toBeVisible();
  await expect(page.locator(".mantine-Alert-root")).toHaveCount(0);

  const row = page.getByTestId(`user-${doomed.username}`);
  await row.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog", { name: "Delete user?" }).getByRole("button", { name: "Delete" }).click();
  await expect(row).toHaveCount(0, SLOW);
  expect((await call("GET", `/users/${doomed.id}`)).status).toBe(404);
});

test("bug 13: a favicon, and no API call that 401s when logged out", async ({ page, request }) => {
  expect((await request.get("/favicon.ico")).status()).toBe(200);
  const unauthorized: string[] = [];
  page.on("response", (r) => {
    if (r.status() === 401 && r.url().includes("/api/v1/") && !r.url().includes("/api/v1/auth/")) {
      unauthorized.push(r.url());
    }
  });
  for (const path of ["/pipelines", "/connections", "/monitoring", "/settings/users"]) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/login/, SLOW);
    await expect(page.locator('input[name="username"]')).toBeVisible(SLOW);
  }
  await expect(page.locator('link[rel="icon"]').first()).toBeAttached();
  expect(unauthorized).toEqual([]);
});

test("event inspector and row history show this test's changes", async ({ page }) => {
  const created = await call("POST", "/pipelines", { name: `i15-live-${RUN}`, source_connection_id: source,
    target_connection_id: target, mode: "cdc_only", tables: [`${SCHEMA}.accounts`] });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  live = id;
  expect((await call("POST", `/pipelines/${id}/start`)).status).toBe(202);
  await until("RUNNING", async () => (await call("GET", `/pipelines/${id}`)).body.status === "RUNNING", 180_000);
  await sql("demo_source", `INSERT INTO ${SCHEMA}.accounts VALUES (1, 'first@x.io', 'gold', 10.00),
    (2, 'other@x.io', 'gold', 1.00)`);
  await sql("demo_source", `UPDATE ${SCHEMA}.accounts SET email = 'second@x.io', tier = 'silver' WHERE id = 1`);
  await sql("demo_source", `UPDATE ${SCHEMA}.accounts SET tier = 'bronze' WHERE id = 2`);
  await sql("demo_source", `DELETE FROM ${SCHEMA}.accounts WHERE id = 1`);
  await until("5 events stored", async () => (await call("GET",
    `/monitoring/events?pipeline_id=${id}&limit=10`)).body.items.length >= 5, 120_000);

  await login(page, ADMIN.username, ADMIN.password);
  await page.goto(`/pipelines/${id}`);
  const updates = page.locator('[data-testid="event-row"][data-event-type="update"]');
  await expect(updates).toHaveCount(2, SLOW);
  // The events list is newest first: the older update is the one of row 1.
  await updates.last().click();
  const drawer = page.getByTestId("inspector-body");
  await expect(drawer).toBeVisible(SLOW);
  const email = drawer.getByTestId("diff-email");
  await expect(email).toHaveAttribute("data-changed", "true");
  await expect(email.getByTestId("before")).toHaveText("first@x.io");
  await expect(email.getByTestId("after")).toHaveText("second@x.io");
  await expect(drawer.getByTestId("diff-tier")).toHaveAttribute("data-changed", "true");
  await expect(drawer.getByTestId("diff-balance")).not.toHaveAttribute("data-changed", "true");
  await expect(drawer.getByTestId("inspector-lsn")).toHaveText(/^[0-9A-F]+\/[0-9A-F]+$/);  // pg_lsn text (issue 24, bug 7)
  await expect(drawer.getByTestId("inspector-tx")).toHaveText(/^\d+$/);
  await expect(drawer.getByTestId("inspector-topic")).toContainText(`${id}.${SCHEMA}.accounts`);
  await expect(drawer.getByTestId("inspector-offset")).toHaveText(/^\d+ \/ \d+$/);
  await expect(drawer.getByRole("button", { name: "Copy Source LSN" })).toBeVisible();
  await page.keyboard.press("Escape");

  const history = page.getByTestId("row-history");
  await history.locator('input[name="history-key"]').fill("1");
  await history.getByRole("button", { name: "Show history" }).click();
  const items = history.getByTestId("history-item");
  await expect(items).toHaveCount(3, SLOW);
  expect(await items.evaluateAll((els) => els.map((e) => e.getAttribute("data-event-type"))))
    .toEqual(["insert", "update", "delete"]);
  await expect(items.nth(1).getByTestId("history-changed")).toHaveText("changed: email, tier");
  await expect(history.getByTestId("history-summary")).toContainText("the row was deleted");
  // The search is in the URL: a reload (or a shared link) shows the same history.
  await expect(page).toHaveURL(/history_key=1/);
  await page.reload();
  await expect(page.getByTestId("row-history").getByTestId("history-item")).toHaveCount(3, SLOW);

  // Replay: row 2 went wrong on the target; one click (confirmed) puts the source's row back.
  const row2 = `SELECT id, email, tier, balance::text FROM ${SCHEMA}.accounts WHERE id = 2`;
  await until("row 2 on the target", async () => (await selectRows("demo_target", row2)).length === 1
    && (await selectRows("demo_target", row2))[0].tier === "bronze", 120_000);
  await sql("demo_target", `UPDATE ${SCHEMA}.accounts SET tier = 'wrong', balance = -1 WHERE id = 2`);
  const panel = page.getByTestId("row-history");
  await panel.locator('input[name="history-key"]').fill("2");
  await panel.getByRole("button", { name: "Show history" }).click();
  await expect(panel.getByTestId("history-item")).toHaveCount(2, SLOW);
  await panel.getByRole("button", { name: "Replay onto target" }).click();
  // Confirmed in the app's own dialog, which shows what it will write (issue 24, bug 4).
  const replay = page.getByRole("dialog", { name: "Replay this row onto the target?" });
  await expect(replay.getByTestId("replay-plan")).toContainText("2 columns differ (tier, balance)", SLOW);
  await replay.getByTestId("confirm").click();
  await expect(panel.getByTestId("replay-result")).toHaveText("The target now holds the source's row.", SLOW);
  expect(await selectRows("demo_target", row2)).toEqual(await selectRows("demo_source", row2));
});

test("bugs 7, 8 and 11: lag in human units and time, continuous chart axes, nothing cut at 800 px", async ({ page }) => {
  expect(live, "the running pipeline of the inspector test").not.toBe("");
  await login(page, ADMIN.username, ADMIN.password);
  await page.goto(`/pipelines/${live}`);
  // Per-pipeline lag, in bytes and time, and the per-table view with this test's events.
  await expect(page.getByTestId("pipeline-lag")).toContainText(/Streaming lag/, SLOW);
  await expect(page.getByTestId("pipeline-lag")).toContainText(/\d+(\.\d)? (B|KiB|MiB|GiB) · \d/);
  const row = page.getByTestId(`per-table-${SCHEMA}.accounts`);
  await expect(row.locator("td").nth(2)).toHaveText("2", SLOW);  // updates
  await expect(row.locator("td").nth(4)).toContainText("ago");
  // Sixty minutes on the axis whatever the number of minutes with events.
  await expect(page.getByTestId("events-chart").first()).toHaveAttribute("data-buckets", "60");

  await page.goto("/monitoring");
  await expect(page.getByTestId("stat-streaming-lag")).toContainText("Streaming lag (running pipelines)", SLOW);
  await expect(page.getByTestId("stat-wal-held").getByTestId("value")).toHaveText(/^\d+(\.\d)? (B|KiB|MiB|GiB|TiB)$/);
  await expect(page.getByTestId("stat-streaming-lag").getByTestId("value"))
    .toHaveText(/^\d+(\.\d)? (B|KiB|MiB|GiB|TiB) · [\d.]+ (ms|s|min)/);
  await expect(page.getByTestId("events-chart").first()).toHaveAttribute("data-buckets", "60");

  await page.setViewportSize({ width: 800, height: 900 });
  await page.goto("/pipelines");
  const badge = page.getByTestId("pipelines-table").locator(".mantine-Badge-root", { hasText: "RUNNING" }).first();
  await expect(badge).toBeVisible(SLOW);
  const label = badge.locator(".mantine-Badge-label");
  expect(await label.evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
  await page.goto(`/pipelines/${live}`);
  const first = page.getByTestId("event-row").first();
  await expect(first).toBeVisible(SLOW);
  // No cell's content runs into the next one.
  const overlaps = await first.evaluate((row) => {
    const cells = [...row.children] as HTMLElement[];
    return cells.slice(0, -1).filter((c, i) => c.getBoundingClientRect().right > cells[i + 1].getBoundingClientRect().left + 1
      || c.scrollWidth > c.clientWidth + 1 && getComputedStyle(c).overflow !== "hidden").length;
  });
  expect(overlaps).toBe(0);
  const statusBadge = page.getByTestId("pipeline-status").locator(".mantine-Badge-label");
  expect(await statusBadge.evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
});

test("bug 4: connector badges tell a requested pause and a stop from trouble", async ({ page }) => {
  expect(live, "the running pipeline of the inspector test").not.toBe("");
  await login(page, ADMIN.username, ADMIN.password);
  await page.goto(`/pipelines/${live}`);
  await expect(page.getByTestId("connector-source")).toHaveText("RUNNING", SLOW);
  await expect(page.getByTestId("connector-source")).toHaveAttribute("data-tone", "ok");
  expect((await call("POST", `/pipelines/${live}/pause`)).status).toBeLessThan(300);
  await until("PAUSED", async () => (await call("GET", `/pipelines/${live}`)).body.status === "PAUSED");
  for (const role of ["source", "sink"]) {
    await expect(page.getByTestId(`connector-${role}`)).toHaveText("PAUSED (as asked)", { timeout: 60_000 });
    await expect(page.getByTestId(`connector-${role}`)).toHaveAttribute("data-tone", "idle");
  }
  expect((await call("POST", `/pipelines/${live}/stop`)).status).toBeLessThan(300);
  await until("STOPPED", async () => (await call("GET", `/pipelines/${live}`)).body.status === "STOPPED");
  for (const role of ["source", "sink"]) {
    await expect(page.getByTestId(`connector-${role}`)).toHaveAttribute("data-tone", "idle", { timeout: 60_000 });
    await expect(page.getByTestId(`connector-${role}`)).not.toHaveText(/RUNNING|OK/);
  }
  // The list shows no "ok" health for a stopped pipeline.
  await page.goto("/pipelines");
  const listed = page.getByTestId("pipelines-table").locator("tr", { hasText: `i15-live-${RUN}` });
  await expect(listed).toContainText("STOPPED", SLOW);
  await expect(listed.locator(".mantine-Badge-root", { hasText: /^ok$/ })).toHaveCount(0);
});

test("Monitoring: filters live in the URL, lists search, and the inspector opens from any event", async ({ page }) => {
  expect(live, "the pipeline of the inspector test").not.toBe("");
  await login(page, ADMIN.username, ADMIN.password);
  await page.goto(`/monitoring?pipeline=${live}&type=delete`);
  const rows = page.getByTestId("event-row");
  await expect(rows).toHaveCount(1, SLOW);  // this test's one delete
  await expect(rows.first()).toHaveAttribute("data-event-type", "delete");
  await rows.first().click();
  await expect(page.getByTestId("inspector-diff").getByTestId("diff-email").getByTestId("before"))
    .toHaveText("second@x.io", SLOW);
  await page.keyboard.press("Escape");
  await page.getByPlaceholder("All types").click();
  await page.getByRole("option", { name: "insert", exact: true }).click();
  await expect(page).toHaveURL(/type=insert/);
  await expect(page).toHaveURL(new RegExp(`pipeline=${live}`));
  await expect(rows).toHaveCount(2, SLOW);

  // A time range is in the URL too: a window long before this run holds none of its events; the last hour does.
  await page.goto(`/monitoring?pipeline=${live}&since=2001-01-01T00:00:00Z&until=2001-01-02T00:00:00Z`);
  await expect(page.getByTestId("events-loaded")).toHaveText("0 events loaded", SLOW);
  await expect(page.getByTestId("filter-since")).not.toHaveValue("");
  await page.getByTestId("filter-range").click();
  await page.getByRole("option", { name: "Last hour", exact: true }).click();
  await expect(page).toHaveURL(/range=1h/);
  await expect(page).not.toHaveURL(/since=/);
  await expect(rows).not.toHaveCount(0, SLOW);

  await page.goto("/pipelines");
  await page.getByTestId("pipelines-search").fill(`i15-live-${RUN}`);
  await expect(page.getByTestId("pipelines-table").locator("tbody tr")).toHaveCount(1, SLOW);
});

test("dark mode follows the system and toggles; docs pages explain; screenshots in light and dark", async ({ browser }) => {
  const pages: [string, string][] = [["pipelines", "/pipelines"], ["connections", "/connections"],
    ["monitoring", "/monitoring"], ["users", "/settings/users"], ["wizard", "/pipelines/new"],
    ["alerts", "/alerts"], ["analytics", "/analytics"], ["docs-lag", "/docs/lag"]];
  if (live) pages.push(["pipeline-detail", `/pipelines/${live}`]);
  for (const scheme of ["light", "dark"] as const) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await login(page, ADMIN.username, ADMIN.password);
    await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", scheme);
    for (const [name, path] of pages) {
      await page.goto(path);
      await expect(page.getByTestId("current-user")).toBeVisible(SLOW);
      await expect(page.getByTestId("loading-skeleton")).toHaveCount(0, SLOW);
      await page.screenshot({ path: `../docs/screenshots/${name}-${scheme}.png`, fullPage: true });
    }
    await context.close();
  }
  const context = await browser.newContext({ colorScheme: "light" });
  const page = await context.newPage();
  await login(page, ADMIN.username, ADMIN.password);
  await page.getByTestId("color-scheme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "dark");
  await page.reload();  // the choice is kept
  await expect(page.locator("html")).toHaveAttribute("data-mantine-color-scheme", "dark", SLOW);
  await page.goto("/docs/retained-wal");
  await expect(page.getByTestId("doc-page")).toContainText("max_slot_wal_keep_size", SLOW);
  expect((await page.goto("/docs/..%2Fpackage"))!.status()).toBe(404);
  await context.close();
});
