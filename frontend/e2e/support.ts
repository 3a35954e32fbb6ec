// What the e2e specs share: the stack under test (its addresses come from the environment `make test` exports), SQL
// on its PostgreSQL, its REST API, waiting on a condition with a deadline, and logging in through the page.
import { expect, type Page } from "@playwright/test";
import pg from "pg";

export const API = process.env.CDCFLOW_API_URL ?? "http://127.0.0.1:8000";
export const SUPER_DSN = process.env.PG_SUPERUSER_DSN ?? "";
export const ADMIN = { username: process.env.CDCFLOW_ADMIN_USER ?? "admin", password: process.env.CDCFLOW_ADMIN_PASSWORD ?? "" };
// Page loads, hydration and the connectors starting take long on a busy two-core machine.
export const SLOW = { timeout: 60_000 };

/** The superuser DSN of one database of the stack's PostgreSQL. */
export function dsn(database: string): string {
  const url = new URL(SUPER_DSN);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function rows(database: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: dsn(database) });
  await client.connect();
  try { return (await client.query(text)).rows; } finally { await client.end(); }
}

export async function sql(database: string, text: string): Promise<void> {
  await rows(database, text);
}

/** The body of POST /connections for a database of the stack's PostgreSQL, as its superuser. */
export function pgConnection(name: string, connectionType: string, database: string) {
  const url = new URL(SUPER_DSN);
  return { name, connection_type: connectionType, host: "127.0.0.1", port: Number(url.port), database,
    username: "postgres", password: decodeURIComponent(url.password) };
}

// The body is whatever JSON the endpoint answered (typed per endpoint in lib/api, not here).
export interface Reply { status: number; body: any }

/** The REST API with a bearer token; each spec holds its own. */
export class Api {
  token = "";

  constructor(readonly base = API) {}

  async login(user: { username: string; password: string } = ADMIN): Promise<void> {
    const res = await fetch(`${this.base}/api/v1/auth/login`, { method: "POST",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(user) });
    expect(res.status, `login as ${user.username}`).toBe(200);
    this.token = ((await res.json()) as { access_token: string }).access_token;
  }

  /** `base`: another API process than this client's (the token is good on any of them). */
  call = async (method: string, path: string, body?: unknown, base = this.base): Promise<Reply> => {
    const res = await fetch(`${base}/api/v1${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" } });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

/** Polls `fn` every 250 ms until it returns something truthy. A throw counts as "not yet" (a server still starting,
 * a transient error); the last one is in the message if the deadline passes. */
export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}` + (lastError ? ` (last error: ${String(lastError)})` : ""));
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Logs in through the login page and waits until the app shows the user. */
export async function login(page: Page, username = ADMIN.username, password = ADMIN.password): Promise<void> {
  await page.goto("/login");
  // MantineProvider marks <html> once React runs: typing earlier could be lost to hydration.
  await expect(page.locator("html[data-mantine-color-scheme]")).toBeAttached(SLOW);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("current-user")).toHaveText(username, SLOW);
}
