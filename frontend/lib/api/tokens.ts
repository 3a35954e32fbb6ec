// Where the session's tokens live between page loads.

export type Tokens = { accessToken: string; refreshToken: string };
const KEY = "cdcflow.tokens";

export const tokenStore = {
  get(): Tokens | null {
    if (typeof window === "undefined") return null;
    try {
      return JSON.parse(window.localStorage.getItem(KEY) ?? "null") as Tokens | null;
    } catch {
      return null;
    }
  },
  set(tokens: Tokens | null): void {
    if (typeof window === "undefined") return;
    if (tokens) window.localStorage.setItem(KEY, JSON.stringify(tokens));
    else window.localStorage.removeItem(KEY);
  },
};
