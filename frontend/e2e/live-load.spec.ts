// Issue 14, the browser under a live stream: a real pipeline (Debezium, Kafka, event logger, Socket.IO) carries
// ~300 changes/s (LIVE_RATE; LIVE_SECONDS long) while /monitoring and the pipeline's page are open in two tabs.
// Asserted: events do arrive, the pages keep handling input, the JS heap stays bounded, and "Pause live" holds the
// list still until resumed. Measured, not asserted: the input round trip (a keypress and a click, which Playwright
// waits for the tab's main thread to handle). That is a speed figure, so `make bench-browser` runs this spec at
// 1,000 changes/s for a minute on a quiet stack and writes it to bench/results/browser.{json,md} against the goal
// (p95 < 100 ms); in `make test` the same figures are only printed.
import { expect, test, type Page } from "@playwright/test";
import { writeFileSync } from "node:fs";
import pg from "pg";
import { Api, dsn, login, pgConnection, sql, until } from "./support";

const RUN = Math.random().toString(16).slice(2, 8);
const SCHEMA = `lv_${RUN}`;
const RATE = Number(process.env.LIVE_RATE ?? 300);         // changes per second
const SECONDS = Number(process.env.LIVE_SECONDS ?? 45);
const api = new Api();
const call = api.call;

/** Writes RATE changes a second (inserts, and updates of rows inserted before) in 10 commits a second. */
function startStream(): { stop: () => Promise<number> } {
  const client = new pg.Client({ connectionString: dsn("demo_source") });
  let stopped = false;
  let written = 0;
  const perTick = Math.max(1, Math.round(RATE / 10));
  const done = (async () => {
    await client.connect();
    let next = Date.now();
    let id = 0;
    while (!stopped) {
      const inserts = Math.ceil(perTick / 2);
      const rows = Array.from({ length: inserts }, (_, i) => `(${id + i + 1}, ${id + i + 1}, 'n')`).join(",");
      await client.query(`INSERT INTO ${SCHEMA}.items VALUES ${rows}`);
      await client.query(`UPDATE ${SCHEMA}.items SET v = v + 1 WHERE id > ${id + inserts - (perTick - inserts)} AND id <= ${id + inserts}`);
      id += inserts;
      written += perTick;
      next += 100;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    await client.end();
  })();
  return { stop: async () => { stopped = true; await done; return written; } };
}

/** Milliseconds from sending an input to the tab having handled it (Playwright waits for the renderer). */
async function inputRoundTrips(page: Page): Promise<number[]> {
  const t0 = performance.now();
  await page.keyboard.press("Shift");
  const t1 = performance.now();
  await page.mouse.click(5, 995);  // an empty spot at the bottom left: nothing opens or navigates
  const t2 = performance.now();
  return [t1 - t0, t2 - t1];
}

async function heapMb(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send("HeapProfiler.collectGarbage");
    const { usedSize } = await cdp.send("Runtime.getHeapUsage");
    return usedSize / 1024 / 1024;
  } finally {
    await cdp.detach();
  }
}

function pct(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}
const p95 = (values: number[]) => pct(values, 0.95);

let pipeline = "";

test.describe.configure({ mode: "serial" });
test.setTimeout(600_000);

test.beforeAll(async () => {
  test.setTimeout(300_000);
  await api.login();
  await sql("demo_source", `CREATE SCHEMA ${SCHEMA}; CREATE TABLE ${SCHEMA}.items (id int PRIMARY KEY, v int, note text);`);
  const conn = (name: string, kind: string, database: string) =>
    call("POST", "/connections", pgConnection(name, kind, database));
  const s = await conn(`lv source ${RUN}`, "source", "demo_source");
  const t = await conn(`lv target ${RUN}`, "target", "demo_target");
  expect([s.status, t.status]).toEqual([201, 201]);
  const created = await call("POST", "/pipelines", { name: `lv-${RUN}`, source_connection_id: s.body.id,
    target_connection_id: t.body.id, mode: "cdc_only", tables: [`${SCHEMA}.items`] });
  expect(created.status).toBe(201);
  pipeline = created.body.id;
  expect((await call("POST", `/pipelines/${pipeline}/start`)).status).toBe(202);
  await until("RUNNING", async () => (await call("GET", `/pipelines/${pipeline}`)).body.status === "RUNNING", 240_000);
});

test.afterAll(async () => {
  if (pipeline) {
    await call("POST", `/pipelines/${pipeline}/stop`);
    await until("stopped", async () => ["STOPPED", "ERROR"].includes((await call("GET", `/pipelines/${pipeline}`)).body.status),
      120_000).catch(() => undefined);
    await call("DELETE", `/pipelines/${pipeline}?force=true`);
  }
  await sql("demo_source", `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await sql("demo_target", `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
});

test(`pages stay responsive with bounded memory at ${RATE} changes/s`, async ({ page, browser }) => {
  // The pipeline page in a window of its own (its own login and cookies), as a second user session would be.
  await login(page);
  await page.goto("/monitoring");
  const other = await browser.newContext();
  const detail = await other.newPage();
  detail.on("pageerror", (e) => console.log(`pipeline page error: ${e.message}`));
  await login(detail);
  await detail.goto(`/pipelines/${pipeline}`);
  await expect(detail.getByTestId("live-mode")).toHaveText("live", { timeout: 60_000 });
  await expect(page.getByTestId("live-mode")).toHaveText("live", { timeout: 60_000 });

  const stream = startStream();
  const started = Date.now();
  const rows = detail.getByTestId("event-row");
  try {
    await expect(rows.first()).toBeVisible({ timeout: 60_000 });  // the stream reaches the browser
    const heapStart = { monitoring: await heapMb(page), detail: await heapMb(detail) };
    const trips: Record<string, number[]> = { monitoring: [], detail: [] };
    let paused = false;
    while (Date.now() - started < SECONDS * 1000) {
      trips.monitoring.push(...await inputRoundTrips(page));
      trips.detail.push(...await inputRoundTrips(detail));
      if (!paused && Date.now() - started > SECONDS * 500) {
        // Pause live: the list holds still while changes keep streaming, and moves again once resumed.
        paused = true;
        await detail.getByTestId("pause-live").click();
        await expect(detail.getByTestId("pause-live")).toHaveText("Resume live");
        const top = await rows.first().getAttribute("data-event-id");
        await new Promise((r) => setTimeout(r, 2000));
        expect(await rows.first().getAttribute("data-event-id")).toBe(top);
        await detail.getByTestId("pause-live").click();
        await until("newer events after resuming", async () =>
          Number(await rows.first().getAttribute("data-event-id")) > Number(top), 30_000);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const heapEnd = { monitoring: await heapMb(page), detail: await heapMb(detail) };
    const report = Object.fromEntries(Object.entries(trips).map(([name, values]) => [name,
      { samples: values.length, p50: Math.round(pct(values, 0.5)), p95: Math.round(p95(values)),
        heapStartMb: Math.round(heapStart[name as "detail"]), heapEndMb: Math.round(heapEnd[name as "detail"]) }]));
    console.log(`live load ${RATE}/s for ${SECONDS} s: ${JSON.stringify(report)}`);
    if (process.env.LIVE_REPORT) {
      writeFileSync(process.env.LIVE_REPORT, JSON.stringify({ when: new Date().toISOString(), rate: RATE,
        seconds: SECONDS, pages: report }, null, 2) + "\n");
    }
    for (const name of ["monitoring", "detail"] as const) {
      // Each round trip completed within its action deadline: input was handled all along, however slowly the
      // stack streaming on the same two cores lets the browser run (the speed itself is bench-browser's figure).
      expect(trips[name].length).toBeGreaterThanOrEqual(1);
      expect(heapEnd[name] - heapStart[name], `${name}: heap growth (MB)`).toBeLessThan(30);
    }
  } finally {
    const written = await stream.stop();
    console.log(`streamed ${written} changes in ${Math.round((Date.now() - started) / 1000)} s`);
    await other.close();
  }
});
