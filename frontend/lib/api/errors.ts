// One error type for everything the API client can fail with, shaped for display.

export type ApiErrorKind = "network" | "unauthorized" | "forbidden" | "not_found" | "conflict" | "validation" |
  "rate_limited" | "server" | "unknown";

export class ApiError extends Error {
  constructor(
    public readonly kind: ApiErrorKind,
    message: string,
    public readonly status: number | null,
    public readonly code: string | null = null,
    public readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const KIND_BY_STATUS: Record<number, ApiErrorKind> = {
  401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 422: "validation", 429: "rate_limited",
};

/** Maps an HTTP status and the backend's `{"error": {code, message, details}}` body to an ApiError. */
export function toApiError(status: number | null, body: unknown, fallback = "Request failed"): ApiError {
  if (status === null) return new ApiError("network", "The server cannot be reached", null);
  const error = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)
    ?.error;
  const kind = KIND_BY_STATUS[status] ?? (status >= 500 ? "server" : "unknown");
  let message = error?.message ?? fallback;
  const fields = error?.details?.fields as { loc?: string[]; message?: string }[] | undefined;
  if (kind === "validation" && Array.isArray(fields) && fields.length) {
    message += ": " + fields.map((f) => `${(f.loc ?? []).slice(1).join(".")} ${f.message ?? ""}`.trim()).join("; ");
  }
  return new ApiError(kind, message, status, error?.code ?? null, error?.details ?? {});
}
