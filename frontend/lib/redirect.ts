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

/**
 * `next` if it is a same-origin path ("/pipelines/1?tab=x"), else `fallback`. Percent-encoded forms are decoded
 * (repeatedly) and must pass too, so "/%2F%2Fevil.example" or a double-encoded backslash is refused as well.
 */
export function safeNextPath(next: string | null | undefined, fallback = DEFAULT_AFTER_LOGIN): string {
  if (typeof next !== "string" || next.length === 0 || next.length > MAX_LENGTH) return fallback;
  let layer = next;
  for (let i = 0; i < 5; i++) {
    if (suspicious(layer)) return fallback;
    let decoded: string;
    try {
      decoded = decodeURIComponent(layer);
    } catch {
      return fallback;
    }
    if (decoded === layer) break;
    layer = decoded;
  }
  if (suspicious(layer)) return fallback;
  const url = new URL(next, BASE);
  if (url.origin !== BASE || url.pathname.startsWith("/login")) return fallback;
  return url.pathname + url.search + url.hash;
}
