// The one Axios instance: bearer token from memory, the session restored or renewed from the refresh cookie (one
// refresh at a time), retries with backoff for idempotent requests on network errors and 5xx, every failure turned
// into an ApiError.
import axios, { AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from "axios";
import { appConfig } from "@/lib/config";
import { ApiError, toApiError } from "@/lib/api/errors";
import { tokenStore } from "@/lib/api/tokens";

const IDEMPOTENT = new Set(["get", "head", "options", "put", "delete"]);
/** Asks the API to keep the refresh token in its httpOnly cookie and out of the JSON body. */
export const COOKIE_TRANSPORT = { "X-Token-Transport": "cookie" } as const;

type RetryConfig = InternalAxiosRequestConfig & { _refreshed?: boolean; _attempt?: number };

export type ClientOptions = {
  baseURL?: string;
  maxRetries?: number;
  backoffMs?: number;
  onSessionExpired?: () => void;
  sleep?: (ms: number) => Promise<void>;
};

export type ApiClient = AxiosInstance & {
  /** A new access token from the refresh cookie (also after a page reload), or null when there is no session. */
  refreshSession: () => Promise<string | null>;
};

// login, refresh and logout manage the session themselves; a 401 there is an answer, not an expired token.
const isSessionCall = (url: string | undefined) => /\/auth\/(login|refresh|logout)$/.test(url ?? "");

/** Runs `fn` while holding a lock shared by this site's tabs, where the browser has Web Locks (https, localhost). */
async function acrossTabs<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  return locks ? await locks.request("cdcflow-session-refresh", fn) : fn();
}

export function createApiClient(options: ClientOptions = {}): ApiClient {
  const maxRetries = options.maxRetries ?? 2;
  const backoffMs = options.backoffMs ?? 300;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const instance = axios.create({ baseURL: options.baseURL ?? `${appConfig().apiUrl}/api/v1`, timeout: 30000 });

  // The refresh token rotates on every use and a reused one ends the whole session (theft detection), so two
  // refreshes must never race with the same cookie: one in flight per tab, and one at a time across tabs.
  let refreshing: Promise<string | null> | null = null;
  const refreshSession = (): Promise<string | null> => {
    refreshing ??= acrossTabs(async () => {
      try {
        const { data } = await axios.post(`${instance.defaults.baseURL}/auth/refresh`, undefined,
          { headers: COOKIE_TRANSPORT, withCredentials: true, timeout: 10000 });
        tokenStore.set(data.access_token);
        return data.access_token as string;
      } catch {
        tokenStore.set(null);
        return null;
      }
    }).finally(() => { refreshing = null; });
    return refreshing;
  };

  instance.interceptors.request.use(async (config: RetryConfig) => {
    if (isSessionCall(config.url)) {
      config.withCredentials = true;
      config.headers.set(COOKIE_TRANSPORT);
      return config;
    }
    if (!config.headers.Authorization && !tokenStore.get()) {
      // Just loaded: the token is not in memory yet. Get it first rather than collect a 401.
      config._refreshed = true;
      if (!(await refreshSession())) {
        // No session at all: sending the request would only collect a 401 (and log it in the console).
        options.onSessionExpired?.();
        throw new ApiError("unauthorized", "Authentication required", 401, "unauthorized");
      }
    }
    const token = tokenStore.get();
    if (token && !config.headers.Authorization) config.headers.Authorization = `Bearer ${token}`;
    return config;
  });

  instance.interceptors.response.use(undefined, async (error: AxiosError) => {
    const config = error.config as RetryConfig | undefined;
    const status = error.response?.status ?? null;
    if (config && status === 401 && !isSessionCall(config.url)) {
      const token = config._refreshed ? null : await refreshSession();
      config._refreshed = true;
      if (token) {
        config.headers.Authorization = `Bearer ${token}`;
        return instance.request(config);
      }
      options.onSessionExpired?.();
    }
    const retryable = status === null || status >= 500;
    if (config && retryable && IDEMPOTENT.has((config.method ?? "get").toLowerCase())) {
      config._attempt = (config._attempt ?? 0) + 1;
      if (config._attempt <= maxRetries) {
        await sleep(backoffMs * 2 ** (config._attempt - 1));
        return instance.request(config);
      }
    }
    if (error instanceof ApiError) throw error;
    throw toApiError(status, error.response?.data ?? null, error.message);
  });
  return Object.assign(instance, { refreshSession });
}

let shared: ApiClient | null = null;

export function api(): ApiClient {
  shared ??= createApiClient({
    onSessionExpired: () => {
      if (typeof window !== "undefined" && !window.location.pathname.startsWith("/login")) {
        window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
      }
    },
  });
  return shared;
}
