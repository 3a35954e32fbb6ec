// Runtime configuration: the server layout injects it (so one build serves any port), NEXT_PUBLIC_* as fallback.

export type AppConfig = {
  apiUrl: string;
  wsUrl: string;
  wsEnabled: boolean;
  pollIntervalMs: number;
};

declare global {
  interface Window {
    __CDCFLOW_CONFIG__?: AppConfig;
  }
}

export function serverConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const apiUrl = (env.CDCFLOW_API_URL ?? env.NEXT_PUBLIC_API_URL ?? "http://127.0.0.1:8000").replace(/\/+$/, "");
  const ws = env.CDCFLOW_WS_ENABLED ?? env.NEXT_PUBLIC_WS_ENABLED ?? "true";
  return {
    apiUrl,
    wsUrl: (env.NEXT_PUBLIC_WS_URL ?? apiUrl).replace(/\/+$/, ""),
    wsEnabled: ws.toLowerCase() !== "false",
    pollIntervalMs: Number(env.NEXT_PUBLIC_POLL_INTERVAL_MS ?? 5000),
  };
}

export function appConfig(): AppConfig {
  if (typeof window !== "undefined" && window.__CDCFLOW_CONFIG__) return window.__CDCFLOW_CONFIG__;
  return serverConfig();
}
