// The one Axios instance: bearer token from the store, one silent refresh on 401 then a retry, retries with
// backoff for idempotent requests on network errors and 5xx, every failure turned into an ApiError.
import axios, { AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from "axios";

import { appConfig } from "@/lib/config";
import { ApiError, toApiError } from "@/lib/api/errors";
import { tokenStore, type Tokens } from "@/lib/api/tokens";

const IDEMPOTENT = new Set(["get", "head", "options", "put", "delete"]);

type RetryConfig = InternalAxiosRequestConfig & { _refreshed?: boolean; _attempt?: number };

export type ClientOptions = {
  baseURL?: string;
  maxRetries?: number;
  backoffMs?: number;
  onSessionExpired?: () => void;
  sleep?: (ms: number) => Promise<void>;
};

export function createApiClient(options: ClientOptions = {}): AxiosInstance {
  const maxRetries = options.maxRetries ?? 2;
  const backoffMs = options.backoffMs ?? 300;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const instance = axios.create({ baseURL: options.baseURL ?? `${appConfig().apiUrl}/api/v1`, timeout: 30000 });
  let refreshing: Promise<Tokens | null> | null = null;

  const refresh = async (): Promise<Tokens | null> => {
    const current = tokenStore.get();
    if (!current) return null;
    try {
      const { data } = await axios.post(`${instance.defaults.baseURL}/auth/refresh`,
        { refresh_token: current.refreshToken }, { timeout: 10000 });
      const tokens = { accessToken: data.access_token, refreshToken: data.refresh_token };
      tokenStore.set(tokens);
      return tokens;
    } catch {
      tokenStore.set(null);
      return null;
    }
  };

  instance.interceptors.request.use((config) => {
    const tokens = tokenStore.get();
    if (tokens && !config.headers.Authorization) config.headers.Authorization = `Bearer ${tokens.accessToken}`;
    return config;
  });

  instance.interceptors.response.use(undefined, async (error: AxiosError) => {
    const config = error.config as RetryConfig | undefined;
    const status = error.response?.status ?? null;
    if (config && status === 401 && !config._refreshed && !config.url?.includes("/auth/")) {
      config._refreshed = true;
      refreshing ??= refresh().finally(() => { refreshing = null; });
      const tokens = await refreshing;
      if (tokens) {
        config.headers.Authorization = `Bearer ${tokens.accessToken}`;
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
  return instance;
}

let shared: AxiosInstance | null = null;

export function api(): AxiosInstance {
  shared ??= createApiClient({
    onSessionExpired: () => {
      if (typeof window !== "undefined" && !window.location.pathname.startsWith("/login")) {
        window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
      }
    },
  });
  return shared;
}
