// Runs before every page: puts a per-request Content-Security-Policy on the response, and on the request so that
// Next.js finds the nonce and stamps it on its own scripts (pages render dynamically: see app/layout.tsx).
import { NextResponse, type NextRequest } from "next/server";

import { serverConfig } from "@/lib/config";
import { contentSecurityPolicy, newNonce } from "@/lib/csp";

export function proxy(request: NextRequest) {
  const nonce = newNonce();
  const policy = contentSecurityPolicy(serverConfig(), nonce, process.env.NODE_ENV === "development");
  const headers = new Headers(request.headers);
  headers.set("x-nonce", nonce);
  headers.set("Content-Security-Policy", policy);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("Content-Security-Policy", policy);
  return response;
}

// Not for the build's static files (hashed JS/CSS): a policy only matters on documents.
export const config = { matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"] };
