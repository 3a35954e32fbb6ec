// The web app's Content-Security-Policy, built per request (proxy.ts): a fresh script nonce each time, and the API
// origin (HTTP and WebSocket forms) read from the runtime configuration, so one build serves any API address.
import type { AppConfig } from "@/lib/config";

/** "http://127.0.0.1:8000/x" -> ["http://127.0.0.1:8000", "ws://127.0.0.1:8000"]; nothing for a bad URL. */
function httpAndWebSocketOrigins(url: string): string[] {
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") return [];
    return [u.origin, `${u.protocol === "https:" ? "wss" : "ws"}://${u.host}`];
  } catch {
    return [];
  }
}

export function contentSecurityPolicy(config: Pick<AppConfig, "apiUrl" | "wsUrl">, nonce: string,
                                      dev = false): string {
  const connect = new Set(["'self'", ...httpAndWebSocketOrigins(config.apiUrl),
    ...httpAndWebSocketOrigins(config.wsUrl)]);
  return [
    "default-src 'self'",
    // Next.js's inline bootstrap scripts carry the nonce; its chunks come from 'self'. No 'strict-dynamic': every
    // script is ours and same-origin, and 'strict-dynamic' would also let any script-created element run (inline
    // or from any host). No 'unsafe-inline'; 'unsafe-eval' only in development (React's dev build evaluates code).
    `script-src 'self' 'nonce-${nonce}'${dev ? " 'unsafe-eval'" : ""}`,
    // Mantine writes its CSS variables into <style> elements and components set style="" attributes, neither with
    // a nonce. Inline style cannot run script, and with img-src/font-src/connect-src limited to known origins an
    // injected style has no channel to leak data through.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${[...connect].join(" ")}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** 128 random bits, base64: unguessable, fresh for every response. */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}
