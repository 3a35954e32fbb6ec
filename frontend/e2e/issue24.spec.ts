// Issue 24's bugs from the browser, against the real stack: one test per bug, each failed before its fix. Bugs 1 and
// 4 share one running pipeline on the demo connections (least-privilege roles), as a new user's would be.
import { expect, test, type Page } from "@playwright/test";
import { Api, SLOW, login, rows as selectRows, sql, until } from "./support";

const RUN = Math.random().toString(16).slice(2, 8);
const SCHEMA = `i24_${RUN}`;
const SOURCE_ROLE = "cdcflow_demo_source";
const LONG = { timeout: 180_000 };

const api = new Api();
const call = api.call;
const made: string[] = [];  // pipelines to stop and delete afterwards
let live = "";  // the running pipeline of bugs 1 and 4

test.describe.configure({ mode: "serial" });

async function connectionId(name: string): Promise<string> {
  const items = (await call("GET", "/connections")).body.items as { id: string; name: string }[];
  return items.find((c) => c.name === name)!.id;
}

async function pickOption(page: Page, label: string, option: string) {
  await page.getByLabel(label, { exact: true }).first().click();
  await page.getByRole("option", { name: option, exact: true }).click();
}

test.beforeAll(async () => {
  await api.login();
  // The tester's source: the signal tables' schema was created by another role (a pipeline on a superuser
  // connection), so the demo role has CREATE on the database but not on that schema.
  await sql("demo_source", `CREATE SCHEMA IF NOT EXISTS cdcflow; ALTER SCHEMA cdcflow OWNER TO postgres;
    REVOKE ALL ON SCHEMA cdcflow FROM ${SOURCE_ROLE};
    CREATE TABLE IF NOT EXISTS cdcflow.signal_e2e_${RUN} (id varchar(64) PRIMARY KEY, type varchar(32), data text);
    CREATE SCHEMA ${SCHEMA} AUTHORIZATION ${SOURCE_ROLE};
    SET ROLE ${SOURCE_ROLE};
    CREATE TABLE ${SCHEMA}.items (id int PRIMARY KEY, qty int NOT NULL);
    INSERT INTO ${SCHEMA}.items SELECT g, g FROM generate_series(1, 300) g;
    CREATE TABLE ${SCHEMA}.notes (id int PRIMARY KEY, body text);
    RESET ROLE;
    -- owned by the superuser: adding it fails (REPLICA IDENTITY FULL needs the owner) until it is handed over
    CREATE TABLE ${SCHEMA}.extra (id int PRIMARY KEY, label text);
    INSERT INTO ${SCHEMA}.extra SELECT g, 'x' || g FROM generate_series(1, 50) g;`);
});

test.afterAll(async () => {
  for (const id of made) {
    await call("POST", `/pipelines/${id}/stop`);
    await until("stopped", async () => ["STOPPED", "ERROR", "NOT_STARTED"].includes(
      (await call("GET", `/pipelines/${id}`)).body.status), 120_000).catch(() => undefined);
    await call("DELETE", `/pipelines/${id}?force=true`);
  }
  await sql("demo_source", `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; DROP TABLE IF EXISTS cdcflow.signal_e2e_${RUN};
    ALTER SCHEMA cdcflow OWNER TO ${SOURCE_ROLE}`);
  await sql("demo_target", `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
});

test("bug 1: resync and add-table say why they cannot work, work once granted, and a failed add is retried",
  async ({ page }) => {
    const created = await call("POST", "/pipelines", { name: `i24-live-${RUN}`, mode: "full_load_and_cdc",
      source_connection_id: await connectionId("Demo source"), target_connection_id: await connectionId("Demo target"),
      tables: [`${SCHEMA}.items`, `${SCHEMA}.notes`] });
    expect(created.status).toBe(201);
    live = created.body.id;
    made.push(live);
    expect((await call("POST", `/pipelines/${live}/start`)).status).toBe(202);

    // The connection's preflight checks what resync and add-table need, and names the missing grant.
    const test_ = await call("POST", `/connections/${await connectionId("Demo source")}/test`, { tables: [] });
    const signal = (test_.body.checks as { name: string; ok: boolean; detail: string }[])
      .find((c) => c.name === "signal_table");
    expect(signal?.ok).toBe(false);
    expect(signal?.detail).toContain(`GRANT USAGE, CREATE ON SCHEMA cdcflow TO ${SOURCE_ROLE}`);

    await login(page);
    await page.goto(`/pipelines/${live}`);
    await expect(page.getByTestId("pipeline-status")).toHaveText("RUNNING", LONG);
    const resync = page.getByTestId(`resync-${SCHEMA}.items`);
    await expect(resync).toBeDisabled(SLOW);
    await expect(page.getByTestId("tables-unavailable")).toContainText(`GRANT USAGE, CREATE ON SCHEMA cdcflow`);
    await expect(page.getByTestId("add-table")).toBeDisabled();

    // The grant the demo seed now gives: both come back (the check is repeated every few seconds).
    await sql("demo_source", `GRANT USAGE, CREATE ON SCHEMA cdcflow TO ${SOURCE_ROLE}`);
    await expect(resync).toBeEnabled({ timeout: 60_000 });
    await expect(page.getByTestId("tables-unavailable")).toHaveCount(0);

    // A table the source user does not own: adding it fails on the table, which then offers a retry.
    await page.getByTestId("add-table-every-schema").click();
    await page.getByTestId("add-table-select").click();
    await page.getByRole("option", { name: `${SCHEMA}.extra`, exact: true }).click();
    await page.getByTestId("add-table").click();
    await expect(page.getByTestId(`table-state-${SCHEMA}.extra`)).toHaveText("FAILED", LONG);
    await expect(page.getByTestId(`table-error-${SCHEMA}.extra`)).toContainText("owner");
    await sql("demo_source", `ALTER TABLE ${SCHEMA}.extra OWNER TO ${SOURCE_ROLE}`);
    await page.getByTestId(`retry-${SCHEMA}.extra`).click();
    await expect(page.getByTestId(`table-state-${SCHEMA}.extra`)).toHaveText("COMPLETED", LONG);
    await until("the added table's rows on the target", async () =>
      Number((await selectRows("demo_target", `SELECT count(*) AS n FROM ${SCHEMA}.extra`))[0].n) === 50, 180_000);

    // Resync on the demo roles, confirmed first (it empties the target table).
    await resync.click();
    const dialog = page.getByRole("dialog", { name: `Resync ${SCHEMA}.items?` });
    await expect(dialog).toContainText("emptied");
    await dialog.getByTestId("confirm").click();
    await expect(dialog).toBeHidden(SLOW);
    await expect(page.getByTestId(`table-state-${SCHEMA}.items`)).toHaveText("COMPLETED", LONG);
    await expect(page.getByTestId(`table-error-${SCHEMA}.items`)).toHaveCount(0);
    await until("the resynced rows on the target", async () =>
      Number((await selectRows("demo_target", `SELECT count(*) AS n FROM ${SCHEMA}.items`))[0].n) === 300, 180_000);
  });

test("bug 2: a MariaDB pipeline offers only what MariaDB supports, and says why", async ({ page }) => {
  const created = await call("POST", "/pipelines", { name: `i24-maria-${RUN}`, mode: "full_load_and_cdc",
    source_connection_id: await connectionId("Demo MariaDB source"),
    target_connection_id: await connectionId("Demo MariaDB target"), tables: ["shop.orders"] });
  expect(created.status).toBe(201);
  made.push(created.body.id);
  expect(created.body.source_database_type).toBe("mariadb");
  expect(Object.keys(created.body.unavailable_actions)).toEqual(
    expect.arrayContaining(["resync", "add_table", "remove_table", "schema_change_policy"]));

  await login(page);
  await page.goto(`/pipelines/${created.body.id}`);
  await expect(page.getByTestId("schema-policy-unavailable")).toContainText("PostgreSQL databases only", SLOW);
  await expect(page.getByTestId("schema-policy")).toHaveCount(0);
  await expect(page.getByTestId("tables-unavailable")).toContainText("not available for MariaDB sources yet");
  await expect(page.getByTestId("resync-shop.orders")).toBeDisabled();
  await expect(page.getByTestId("pipeline-lag")).not.toContainText("WAL");
  await expect(page.getByTestId("pipeline-lag")).toContainText("MariaDB");

  // The wizard: no schema change policy to pick for MariaDB, and the reason instead.
  await page.goto("/pipelines/new");
  await page.getByLabel("Pipeline name").fill(`i24-maria-wizard-${RUN}`);
  await pickOption(page, "Source", "Demo MariaDB source");
  await pickOption(page, "Target", "Demo MariaDB target");
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("checkbox", { name: "shop.orders", exact: true }).check();
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.getByTestId("wizard-schema-policy-unavailable")).toBeVisible();
  await expect(page.getByTestId("wizard-schema-policy")).toHaveCount(0);
});

test("bug 3: the table picker hides cdcflow's own tables, keeps to the schema, searches, selects all; focus moves",
  async ({ page }) => {
    await login(page);
    await page.goto("/pipelines/new");
    await page.getByLabel("Pipeline name").fill(`i24-picker-${RUN}`);
    await pickOption(page, "Source", "Demo source");
    await pickOption(page, "Target", "Demo target");
    await page.getByRole("button", { name: "Next" }).click();
    await expect(page.getByTestId("step-heading")).toBeFocused();
    await expect(page.getByTestId("step-heading")).toContainText("tables");
    const picker = page.getByTestId("tables-picker");
    await expect(picker).toContainText("shop.orders", SLOW);
    await expect(picker).not.toContainText("cdcflow.");
    await expect(picker).not.toContainText(`${SCHEMA}.items`);  // the connection's schema is shop
    await page.getByTestId("every-schema").click();
    await expect(picker).toContainText(`${SCHEMA}.items`);
    await expect(picker).not.toContainText("cdcflow.");
    await page.getByTestId("every-schema").click();

    await page.getByTestId("table-search").fill("order");
    await expect(picker.getByRole("checkbox", { name: "shop.customers" })).toHaveCount(0);
    await page.getByTestId("select-all").check();
    await expect(picker.getByRole("checkbox", { name: "shop.orders", exact: true })).toBeChecked();
    await expect(picker.getByRole("checkbox", { name: "shop.order_items", exact: true })).toBeChecked();
    await page.getByTestId("table-search").fill("");
    await expect(picker.getByRole("checkbox", { name: "shop.customers", exact: true })).not.toBeChecked();
    await page.getByRole("button", { name: "Next" }).click();
    await expect(page.getByTestId("step-heading")).toBeFocused();
    await expect(page.getByTestId("step-heading")).toContainText("mode");
  });

test("bug 4: destructive actions confirm and say what happens, replay shows the difference, harmless ones do not",
  async ({ page }) => {
    expect(live, "the running pipeline of bug 1's test").not.toBe("");
    // A row whose target copy went wrong: an event in its history, then the target changed behind cdcflow's back.
    await sql("demo_source", `UPDATE ${SCHEMA}.items SET qty = 4242 WHERE id = 7`);
    await until("the update on the target", async () =>
      (await selectRows("demo_target", `SELECT qty FROM ${SCHEMA}.items WHERE id = 7`))[0]?.qty === 4242, 120_000);
    await sql("demo_target", `UPDATE ${SCHEMA}.items SET qty = -1 WHERE id = 7`);

    await login(page);
    await page.goto(`/pipelines/${live}?history_table=${SCHEMA}.items&history_key=7`);
    await expect(page.getByTestId("pipeline-status")).toHaveText("RUNNING", LONG);

    // Remove: asks, says what happens, and Cancel leaves the table in place.
    await page.getByTestId(`remove-${SCHEMA}.notes`).click();
    const remove = page.getByRole("dialog", { name: `Remove ${SCHEMA}.notes from the pipeline?` });
    await expect(remove).toContainText("stop reaching the target");
    await remove.getByRole("button", { name: "Cancel" }).click();
    await expect(remove).toBeHidden();
    await expect(page.getByTestId(`table-${SCHEMA}.notes`)).toBeVisible();

    // Replay: the source-vs-target difference it will write, then the write.
    await expect(page.getByTestId("history-summary")).toContainText("change", SLOW);
    await page.getByRole("button", { name: "Replay onto target" }).click();
    const replay = page.getByRole("dialog", { name: "Replay this row onto the target?" });
    await expect(replay.getByTestId("replay-plan")).toContainText("1 column differs (qty)");
    await expect(replay.getByTestId("diff-qty").getByTestId("before")).toHaveText("-1");
    await expect(replay.getByTestId("diff-qty").getByTestId("after")).toHaveText("4242");
    await replay.getByTestId("confirm").click();
    await expect(page.getByTestId("replay-result")).toContainText("source's row", SLOW);
    expect((await selectRows("demo_target", `SELECT qty FROM ${SCHEMA}.items WHERE id = 7`))[0].qty).toBe(4242);

    // Pause and resume are harmless: no dialog.
    await page.getByTestId("action-pause").click();
    await expect(page.getByTestId("pipeline-status")).toHaveText("PAUSED", LONG);
    await expect(page.getByRole("dialog")).toHaveCount(0);
    await page.getByTestId("action-resume").click();
    await expect(page.getByTestId("pipeline-status")).toHaveText("RUNNING", LONG);
    await expect(page.getByRole("dialog")).toHaveCount(0);
  });

test("bug 5: Monitoring shows the changes waiting to be applied, not a 'success rate'", async ({ page }) => {
  await login(page);
  await page.goto("/monitoring");
  const card = page.getByTestId("stat-waiting-to-apply");
  await expect(card).toBeVisible(SLOW);
  await expect(card.getByTestId("value")).toHaveText(/^[\d,]+$/);
  await expect(page.locator("body")).not.toContainText("Success rate");
  const dashboard = (await call("GET", "/monitoring/dashboard")).body;
  expect(dashboard.success_rate).toBeUndefined();
  expect(dashboard.events_pending).toBe(Math.max(0, dashboard.events_produced - dashboard.events_applied));
});

test("bug 6: alert channels and rules show edit controls only where the API says the caller may edit",
  async ({ page }) => {
    const channel = (name: string, canEdit: boolean) => ({ id: `00000000-0000-4000-8000-00000000000${canEdit ? 1 : 2}`,
      name, kind: "webhook", enabled: true, has_secret: false, url_hint: "https://example.com/…", can_edit: canEdit,
      created_at: new Date().toISOString(), updated_at: new Date().toISOString() });
    const rule = (name: string, canEdit: boolean) => ({ id: `00000000-0000-4000-8000-00000000001${canEdit ? 1 : 2}`,
      name, kind: "pipeline_error", threshold: null, pipeline_id: null, pipeline_name: null, enabled: true,
      firing: 0, channels: [], can_edit: canEdit, created_at: new Date().toISOString(),
      updated_at: new Date().toISOString() });
    await page.route(/\/api\/v1\/alerts\/channels(\?.*)?$/, (route) => route.fulfill({ json:
      { items: [channel(`mine-${RUN}`, true), channel(`theirs-${RUN}`, false)] } }));
    await page.route(/\/api\/v1\/alerts\/rules(\?.*)?$/, (route) => route.fulfill({ json:
      { items: [rule(`mine-${RUN}`, true), rule(`theirs-${RUN}`, false)] } }));
    await login(page);
    await page.goto("/alerts");
    await expect(page.getByTestId(`channel-mine-${RUN}`).getByRole("button", { name: "Edit" })).toBeVisible(SLOW);
    await expect(page.getByTestId(`channel-theirs-${RUN}`)).toBeVisible();
    await expect(page.getByTestId(`channel-theirs-${RUN}`).getByRole("button", { name: "Edit" })).toHaveCount(0);
    await expect(page.getByTestId(`channel-theirs-${RUN}`).getByRole("button", { name: "Delete" })).toHaveCount(0);
    await expect(page.getByTestId(`rule-mine-${RUN}`).getByRole("button", { name: "Edit" })).toBeVisible();
    await expect(page.getByTestId(`rule-theirs-${RUN}`).getByRole("button", { name: "Edit" })).toHaveCount(0);
  });

test("bug 7: Monitoring's events name their pipeline and filter by it; the inspector links to row history; one LSN format",
  async ({ page }) => {
    expect(live, "the running pipeline of bug 1's test").not.toBe("");
    await sql("demo_source", `UPDATE ${SCHEMA}.items SET qty = qty + 1 WHERE id BETWEEN 20 AND 22`);
    await login(page);
    await page.goto(`/monitoring?pipeline=${live}`);
    const row = page.getByTestId("event-row").filter({ hasText: `${SCHEMA}.items` }).first();
    await expect(row).toBeVisible(LONG);
    await expect(row.getByTestId("event-pipeline")).toHaveText(`i24-live-${RUN}`);
    await expect(page.getByTestId("events-table")).toContainText("Pipeline");
    await row.click();
    const lsn = page.getByTestId("inspector-lsn");
    await expect(lsn).toHaveText(/^[0-9A-F]+\/[0-9A-F]+$/);
    await expect(page.getByTestId("inspector-pipeline")).toContainText(`i24-live-${RUN}`);
    await page.getByTestId("inspector-row-history").click();
    await expect(page).toHaveURL(new RegExp(`/pipelines/${live}\\?history_table=`), SLOW);
    await expect(page.getByTestId("history-summary")).toContainText("change", SLOW);
    await expect(page.getByTestId("history-timeline")).toContainText(/LSN [0-9A-F]+\/[0-9A-F]+/);
    await expect(page.getByTestId("snapshot-lsn")).toHaveText(/^[0-9A-F]+\/[0-9A-F]+$/, LONG);
  });

test("small items: an admin resets another user's password; a role change asks first; modes read as words",
  async ({ page }) => {
    const user = { username: `i24-user-${RUN}`, password: `pw-${RUN}-long-enough`, role: "viewer" };
    const created = await call("POST", "/users", user);
    expect(created.status).toBe(201);
    try {
      await login(page);
      await page.goto("/settings/users");
      const row = page.getByTestId(`user-${user.username}`);
      await row.getByRole("combobox", { name: `Role of ${user.username}` }).click();
      await page.getByRole("option", { name: "operator", exact: true }).click();
      const role = page.getByRole("dialog", { name: "Change role?" });
      await expect(role).toContainText(`Make ${user.username} an operator?`);
      await role.getByRole("button", { name: "Cancel" }).click();
      expect((await call("GET", `/users/${created.body.id}`)).body.role).toBe("viewer");

      await row.getByTestId(`reset-password-${user.username}`).click();
      const reset = page.getByRole("dialog", { name: "Reset password?" });
      await reset.locator('input[name="reset-password"]').fill("short");
      await expect(reset.getByTestId("confirm")).toBeDisabled();
      const fresh = `new-${RUN}-long-enough`;
      await reset.locator('input[name="reset-password"]').fill(fresh);
      await reset.getByTestId("confirm").click();
      await expect(page.getByTestId("password-reset-done")).toContainText(user.username);
      const loginWith = async (password: string) => (await fetch(`${api.base}/api/v1/auth/login`, { method: "POST",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: user.username, password }) }))
        .status;
      expect(await loginWith(fresh)).toBe(200);
      expect(await loginWith(user.password)).toBe(401);

      if (live) {
        await page.goto(`/pipelines/${live}`);
        await expect(page.getByTestId("pipeline-mode")).toHaveText("Full load, then stream changes (CDC)", SLOW);
      }
    } finally {
      await call("DELETE", `/users/${created.body.id}`);
    }
  });

test("small items: a connection is tested from its form before saving; / is the home; lists sort and filter",
  async ({ page }) => {
    await login(page);
    // Home: the pipelines the user sees and what needs attention, not a readiness page.
    await page.goto("/");
    await expect(page.getByTestId("home")).toBeVisible(SLOW);
    if (live) await expect(page.getByTestId("home-pipelines")).toContainText(`i24-live-${RUN}`);
    await expect(page.getByTestId("backend-status")).toHaveText("ready");

    // The connection form tests what is typed, before anything is saved; the result stays with the connection.
    const url = new URL(process.env.DEMO_SOURCE_DSN ?? "postgresql://missing@127.0.0.1:1/missing");
    const name = `i24 draft ${RUN}`;
    await page.goto("/connections");
    await page.getByRole("button", { name: "New connection" }).click();
    const dialog = page.getByRole("dialog", { name: "New connection" });
    await dialog.locator('input[name="name"]').fill(name);
    await dialog.locator('input[name="host"]').fill(url.hostname);
    await dialog.locator('input[name="port"]').fill(url.port);
    await dialog.locator('input[name="database"]').fill("demo_source");
    await dialog.locator('input[name="schema"]').fill("shop");
    await dialog.locator('input[name="username"]').fill(decodeURIComponent(url.username));
    await dialog.locator('input[name="password"]').fill("not-the-password");
    await dialog.getByTestId("form-test").click();
    await expect(dialog.getByTestId("form-test-result")).toContainText("Authentication failed", SLOW);
    expect(((await call("GET", "/connections")).body.items as { name: string }[]).map((c) => c.name)).not.toContain(name);
    await dialog.locator('input[name="password"]').fill(decodeURIComponent(url.password));
    await dialog.getByTestId("form-test").click();
    await expect(dialog.getByTestId("form-test-result")).toContainText("OK", SLOW);
    await dialog.getByRole("button", { name: "Save" }).click();
    const row = page.getByTestId(`connection-${name}`);
    await expect(row.getByTestId("test-result")).toContainText("OK", SLOW);  // the last result is kept
    const saved = ((await call("GET", "/connections")).body.items as { id: string; name: string }[])
      .find((c) => c.name === name)!;
    await call("DELETE", `/connections/${saved.id}`);

    // Pipelines: a status filter and sortable columns.
    await page.goto("/pipelines");
    await page.getByTestId("status-filter").click();
    await page.getByRole("option", { name: "NOT_STARTED", exact: true }).click();
    const table = page.getByTestId("pipelines-table");
    await expect(table).toContainText(`i24-maria-${RUN}`, SLOW);
    await expect(table).not.toContainText(`i24-live-${RUN}`);
    await page.getByTestId("sort-name").click();
    await expect(page.getByTestId("sort-name")).toHaveAttribute("aria-sort", "descending");
  });
