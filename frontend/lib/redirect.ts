// Where the login page may send the user afterwards: a path of this web app, never another origin.

export const DEFAULT_AFTER_LOGIN = "/pipelines";
const BASE = "http://cdcflow.invalid";
const MAX_LENGTH = 2048;

/** True for a string that, read as a URL, could leave this origin or smuggle something a browser would strip. */
function suspicious(s: string): boolean {
  return !s.startsWith("/") || s.startsWith("//") || s.startsWith("/\\") ||
    // Browsers drop tabs and newlines from URLs ("/\t/evil" becomes "//evil") and read "\" as "/".
    /[\u0000-\u001f\u007f-\u009f\\]/.test(s) || /javascript:/i.test(s);
}

/** `s` with its dot segments resolved as a browser would ("/.//host" becomes "//host"); null if it is no URL. */
function normalised(s: string): string | null {
  try {
    const url = new URL(s, BASE);
    return url.origin === BASE ? url.pathname : null;
  } catch {
    return null;
  }
}

/** Suspicious as written or once its dot segments are resolved. */
function unsafe(s: string): boolean {
  if (suspicious(s)) return true;
  const path = normalised(s);
  return path === null || suspicious(path);
}

/**
 * `next` if it is a same-origin path ("/pipelines/1?tab=x"), else `fallback`. Percent-encoded forms are decoded
 * (repeatedly) and must pass too, so "/%2F%2Fevil.example" or a double-encoded backslash is refused as well; each
 * form must pass again once its dot segments are resolved ("/.//127.0.0.1:8000/x" is "//127.0.0.1:8000/x").
 */
export function safeNextPath(next: string | null | undefined, fallback = DEFAULT_AFTER_LOGIN): string {
  if (typeof next !== "string" || next.length === 0 || next.length > MAX_LENGTH) return fallback;
  let layer = next;
  for (let i = 0; i < 5; i++) {
    if (unsafe(layer)) return fallback;
    let decoded: string;
    try {
      decoded = decodeURIComponent(layer);
    } catch {
      return fallback;
    }
    if (decoded === layer) break;
    layer = decoded;
  }
  if (unsafe(layer)) return fallback;
  const url = new URL(next, BASE);
  if (url.origin !== BASE || url.pathname.startsWith("/login")) return fallback;
  // What is returned is the resolved form: it must pass too (another port of this host gets the refresh cookie).
  const path = url.pathname + url.search + url.hash;
  if (suspicious(url.pathname) || suspicious(path)) return fallback;
  return path;
}
