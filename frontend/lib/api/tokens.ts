// The session's access token, in this tab's memory only: script injected into the page finds nothing in web
// storage. The refresh token is an httpOnly cookie that only the API's /api/v1/auth routes receive; after a reload
// the access token is fetched again with it (see refreshSession in lib/api/client.ts).

let accessToken: string | null = null;

export const tokenStore = {
  get(): string | null {
    return accessToken;
  },
  set(token: string | null): void {
    accessToken = token;
  },
};

const LEGACY_KEY = "cdcflow.tokens";

/** Earlier versions kept both tokens in localStorage; a browser that still has them loses them now. */
export function forgetLegacyTokens(): void {
  try {
    if (typeof window !== "undefined") window.localStorage?.removeItem(LEGACY_KEY);
  } catch {
    // storage disabled: nothing was stored there either
  }
}
