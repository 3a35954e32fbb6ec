// Schema changes and recovery from the browser, against the real stack: the policy chosen in the wizard, a column
// added on the source shown live on the pipeline page, the policy edited there, and the reset confirmation.
import { expect, test } from "@playwright/test";
import pg from "pg";

const API = process.env.CDCFLOW_API_URL ?? "http://127.0.0.1:8000";
const SUPER_DSN = process.env.PG_SUPERUSER_DSN ?? "";
const ADMIN = { username: process.env.CDCFLOW_ADMIN_USER ?? "admin", password: process.env.CDCFLOW_ADMIN_PASSWORD ?? "" };
const RUN = Math.random().toString(16).slice(2, 8);
const SCHEMA = `uirec_${RUN}`;

async function sql(database: string, text: string): Promise<void> {
  const url = new URL(SUPER_DSN);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try { await client.query(text); } finally { await client.end(); }
}

async function call(token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${API}/api/v1${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` } });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

let token = "";
let pipelineId = "";

test.beforeAll(async () => {
  // Owned by the demo connection's least-privilege role, as an application's own tables would be (the start sets
  // REPLICA IDENTITY FULL, which only the owner may).
  await sql("demo_source", `CREATE SCHEMA ${SCHEMA} AUTHORIZATION cdcflow_demo_source;
    SET ROLE cdcflow_demo_source;
    CREATE TABLE ${SCHEMA}.items (id int PRIMARY KEY, qty int NOT NULL);
    INSERT INTO ${SCHEMA}.items SELECT g, g FROM generate_series(1, 200) g;
    RESET ROLE;`);
  const login = await fetch(`${API}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(ADMIN) });
  token = ((await login.json()) as { access_token: string }).access_token;
});

test.afterAll(async () => {
  if (pipelineId) {
    await call(token, "POST", `/pipelines/${pipelineId}/stop`);
    await expect.poll(async () => (await call(token, "GET", `/pipelines/${pipelineId}`)).body.status,
      { timeout: 90_000 }).toBe("STOPPED");
    await call(token, "DELETE", `/pipelines/${pipelineId}?force=true`);
  }
  await sql("demo_source", `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await sql("demo_target", `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
});

test("a schema change shows live on the pipeline page; the policy is editable; reset asks for the name", async ({ page }) => {
  const connections = (await call(token, "GET", "/connections")).body.items as { id: string; name: string }[];
  const id = (name: string) => connections.find((c) => c.name === name)!.id;
  const created = await call(token, "POST", "/pipelines", { name: `ui-recovery-${RUN}`, mode: "full_load_and_cdc",
    source_connection_id: id("Demo source"), target_connection_id: id("Demo target"), tables: [`${SCHEMA}.items`],
    schema_change_policy: "propagate" });
  expect(created.status).toBe(201);
  pipelineId = created.body.id;
  expect((await call(token, "POST", `/pipelines/${pipelineId}/start`)).status).toBe(202);

  await page.goto("/login");
  await page.locator('input[name="username"]').fill(ADMIN.username);
  await page.locator('input[name="password"]').fill(ADMIN.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("current-user")).toHaveText(ADMIN.username);
  await page.goto(`/pipelines/${pipelineId}`);
  await expect(page.getByTestId("pipeline-status")).toHaveText("RUNNING", { timeout: 180_000 });
  await expect(page.getByTestId("schema-policy")).toHaveValue(/Propagate/);
  await expect(page.getByTestId(`resync-${SCHEMA}.items`)).toBeVisible();

  await sql("demo_source", `ALTER TABLE ${SCHEMA}.items ADD COLUMN w int DEFAULT 7;
    UPDATE ${SCHEMA}.items SET w = 1 WHERE id = 1;`);
  const changes = page.getByTestId("schema-changes");
  await expect(changes).toContainText(`${SCHEMA}.items`, { timeout: 30_000 });
  await expect(changes).toContainText("APPLIED");
  await expect(changes).toContainText("ADD COLUMN");
  await expect(page.getByTestId("pipeline-status")).toHaveText("RUNNING");

  await page.getByTestId("schema-policy").click();
  await page.getByRole("option", { name: /^Pause on any schema change/ }).click();
  await expect.poll(async () => (await call(token, "GET", `/pipelines/${pipelineId}`)).body.schema_change_policy)
    .toBe("pause");

  await page.getByTestId("action-reset").click();
  await expect(page.getByTestId("reset-confirm")).toBeDisabled();
  await page.getByTestId("reset-confirm-input").fill("not the name");
  await expect(page.getByTestId("reset-confirm")).toBeDisabled();
  await page.getByTestId("reset-confirm-input").fill(`ui-recovery-${RUN}`);
  await expect(page.getByTestId("reset-confirm")).toBeEnabled();
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.screenshot({ path: "test-results/screens/pipeline-schema.png", fullPage: true });
});
