// Issue 17, live events across processes, in a real browser: a second API process (event logger OFF, so it
// stores no event itself) and a second web app pointed at it. The browser logs in through web #2 / API #2, opens a
// pipeline, and every change made in the source arrives on its Socket.IO connection to API #2, although the event
// was stored by the logger of another process (the stack's API): the PostgreSQL NOTIFY relay carried it across.
import { expect, test, type WebSocket } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import path from "node:path";
import { API, Api, SLOW, login, pgConnection, sql, until } from "./support";

const API_PORT = Number(new URL(API).port);
const WEB_PORT = Number(new URL(process.env.CDCFLOW_UI_URL ?? "http://127.0.0.1:3000").port);
// +2: pytest's cluster tests use API_PORT + 1 for their own second process.
const API2 = `http://127.0.0.1:${API_PORT + 2}`;
const WEB2 = `http://127.0.0.1:${WEB_PORT + 2}`;
const RUN = Math.random().toString(16).slice(2, 8);
const SCHEMA = `cl_${RUN}`;
const REPO = path.resolve(__dirname, "..", "..");
const LOG_DIR = path.join(process.env.CDCFLOW_STACK_DIR ?? path.join(REPO, ".stack"), "logs");

/** A server of ours, in its own process group (killed with everything it started), its output in the stack logs. */
function daemon(name: string, command: string, args: string[], cwd: string, env: Record<string, string>): ChildProcess {
  const out = openSync(path.join(LOG_DIR, `${name}.log`), "a");
  return spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", out, out], detached: true });
}

function stop(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.pid === undefined) return Promise.resolve();
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  process.kill(-proc.pid, "SIGTERM");
  const force = setTimeout(() => { try { process.kill(-proc.pid!, "SIGKILL"); } catch { /* gone */ } }, 20_000);
  return exited.finally(() => clearTimeout(force));
}

let api2: ChildProcess | undefined;
let web2: ChildProcess | undefined;
let pipeline = "";
const api = new Api();
const call = api.call;

test.describe.configure({ mode: "serial" });
test.use({ baseURL: WEB2 });

test.beforeAll(async () => {
  test.setTimeout(400_000);
  api2 = daemon(`api-${API_PORT + 2}`, path.join(REPO, "backend", ".venv", "bin", "cdcflow"),
    ["serve", "--host", "127.0.0.1", "--port", String(API_PORT + 2)], REPO,
    { CDCFLOW_API_PORT: String(API_PORT + 2), EVENT_LOGGER_ENABLED: "false", CDCFLOW_CORS_ORIGINS: JSON.stringify([WEB2]) });
  web2 = daemon(`web-${WEB_PORT + 2}`, path.join(REPO, "frontend", "node_modules", ".bin", "next"),
    ["start", "--hostname", "127.0.0.1", "--port", String(WEB_PORT + 2)], path.join(REPO, "frontend"),
    { CDCFLOW_API_URL: API2, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" });

  await api.login();
  await sql("demo_source", `CREATE SCHEMA ${SCHEMA}; CREATE TABLE ${SCHEMA}.items (id int PRIMARY KEY, note text);`);
  const conn = (name: string, kind: string, database: string) =>
    call("POST", "/connections", pgConnection(name, kind, database));
  const s = await conn(`cl source ${RUN}`, "source", "demo_source");
  const t = await conn(`cl target ${RUN}`, "target", "demo_target");
  expect([s.status, t.status]).toEqual([201, 201]);
  const created = await call("POST", "/pipelines", { name: `cl-${RUN}`, source_connection_id: s.body.id,
    target_connection_id: t.body.id, mode: "cdc_only", tables: [`${SCHEMA}.items`] });
  expect(created.status).toBe(201);
  pipeline = created.body.id;
  expect((await call("POST", `/pipelines/${pipeline}/start`)).status).toBe(202);
  await until("RUNNING", async () => (await call("GET", `/pipelines/${pipeline}`)).body.status === "RUNNING", 240_000);
  await until("API #2 ready", async () => (await fetch(`${API2}/readyz`)).status === 200, 120_000);
  await until("web #2 ready", async () => (await fetch(`${WEB2}/login`)).status === 200, 120_000);
});

test.afterAll(async () => {
  test.setTimeout(300_000);
  if (pipeline) {
    await call("POST", `/pipelines/${pipeline}/stop`);
    await until("stopped", async () => ["STOPPED", "ERROR"].includes((await call("GET", `/pipelines/${pipeline}`)).body.status),
      120_000).catch(() => undefined);
    await call("DELETE", `/pipelines/${pipeline}?force=true`);
  }
  await sql("demo_source", `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await sql("demo_target", `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await Promise.all([stop(web2), stop(api2)]);
});

test("a browser on API #2 sees live the changes a logger in another process stored", async ({ page }) => {
  test.setTimeout(300_000);
  // Every frame the browser's Socket.IO connections receive, and which server each connection went to.
  const frames: string[] = [];
  const sockets: string[] = [];
  page.on("websocket", (ws: WebSocket) => {
    sockets.push(ws.url());
    ws.on("framereceived", (f) => { if (typeof f.payload === "string") frames.push(f.payload); });
  });
  await login(page);
  await page.goto(`/pipelines/${pipeline}`);
  await expect(page.getByTestId("live-mode")).toHaveText("live", SLOW);
  expect(sockets.some((u) => u.startsWith(`ws://127.0.0.1:${API_PORT + 2}/socket.io/`)), sockets.join(", ")).toBe(true);
  expect(sockets.every((u) => !u.startsWith(`ws://127.0.0.1:${API_PORT}/`)), "no socket to API #1").toBe(true);

  const markers = Array.from({ length: 5 }, (_, i) => `cl-${RUN}-${i}`);
  for (const [i, marker] of markers.entries()) {
    await sql("demo_source", `INSERT INTO ${SCHEMA}.items VALUES (${i + 1}, '${marker}')`);
  }
  // Each change arrives on the socket to API #2, which runs no logger: it was stored by the stack API's logger and
  // relayed across processes.
  await until("every change pushed to the socket on API #2",
    async () => markers.every((m) => frames.some((f) => f.includes(m))), 120_000);
  await expect(page.getByTestId("event-row")).toHaveCount(markers.length, SLOW);
  // Stored exactly once, as API #2 reads it back from the shared metadata database.
  const stored = await call("GET", `/monitoring/events?pipeline_id=${pipeline}&limit=50`, undefined, API2);
  expect(stored.status).toBe(200);
  expect(stored.body.items.length).toBe(markers.length);
});
