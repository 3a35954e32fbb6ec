// One Socket.IO connection per tab: the in-memory access token at the handshake, a room per open pipeline page,
// reconnect with backoff and resubscribe after reconnecting. Pages fall back to polling while it is down.
import { io, type Socket } from "socket.io-client";

import { appConfig } from "@/lib/config";
import { api } from "@/lib/api/client";
import { tokenStore } from "@/lib/api/tokens";
import type { CdcEvent, SchemaChange } from "@/lib/api/endpoints";
import type { Summary } from "@/lib/live/batcher";

export type { Summary };
/** `onEvents`: one call per server message, i.e. per stored batch of one pipeline (see lib/live/batcher.ts). */
type Listener = { onEvents?: (events: CdcEvent[]) => void; onSummary?: (s: Summary) => void;
  onSchemaChange?: (c: SchemaChange) => void };
type EventBatch = { pipeline_id: string; events: CdcEvent[] };

let socket: Socket | null = null;
const rooms = new Map<string, number>();
const listeners = new Set<Listener>();
const statusListeners = new Set<(connected: boolean) => void>();

// The server closes a socket whose login session ended or changed (logout, role or password change) and refuses a
// stale token; Socket.IO does not retry either by itself. Retry with backoff using whatever token the store then
// holds: the pages' REST calls refresh it meanwhile (or send the user to the login page).
const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 60000;
let retryDelayMs = RETRY_MIN_MS;
let retryTimer: ReturnType<typeof setTimeout> | null = null;

function retryLater(): void {
  const current = socket;
  if (!current || current.active || retryTimer) return;
  retryTimer = setTimeout(() => {
    retryTimer = null;
    if (socket === current && !current.connected && tokenStore.get()) current.connect();
    else if (socket === current && !current.connected) retryLater();
  }, retryDelayMs);
  retryDelayMs = Math.min(retryDelayMs * 2, RETRY_MAX_MS);
}

function ensureSocket(): Socket | null {
  const config = appConfig();
  if (!config.wsEnabled || typeof window === "undefined") return null;
  if (socket) return socket;
  socket = io(config.wsUrl, {
    transports: ["websocket", "polling"],
    // Right after a page load the access token may still be on its way from the refresh cookie: wait for it.
    auth: (cb) => {
      const token = tokenStore.get();
      if (token) cb({ token });
      else void api().refreshSession().then((fresh) => cb({ token: fresh ?? undefined }));
    },
    reconnection: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 15000,
  });
  socket.on("connect", () => {
    retryDelayMs = RETRY_MIN_MS;
    rooms.forEach((_, id) => socket?.emit("subscribe_pipeline", { pipeline_id: id }));
    statusListeners.forEach((l) => l(true));
  });
  socket.on("disconnect", () => {
    statusListeners.forEach((l) => l(false));
    retryLater();
  });
  socket.on("connect_error", () => {
    statusListeners.forEach((l) => l(false));
    retryLater();
  });
  socket.on("replication_events", (b: EventBatch) => {
    if (Array.isArray(b?.events) && b.events.length) listeners.forEach((l) => l.onEvents?.(b.events));
  });
  socket.on("replication_events_summary", (s: Summary) => listeners.forEach((l) => l.onSummary?.(s)));
  socket.on("schema_change", (c: SchemaChange) => listeners.forEach((l) => l.onSchemaChange?.(c)));
  return socket;
}

export function isSocketConnected(): boolean {
  return Boolean(socket?.connected);
}

export function onSocketStatus(listener: (connected: boolean) => void): () => void {
  statusListeners.add(listener);
  ensureSocket();
  listener(isSocketConnected());
  return () => statusListeners.delete(listener);
}

export function listen(listener: Listener): () => void {
  listeners.add(listener);
  ensureSocket();
  return () => listeners.delete(listener);
}

/** Join a pipeline's room for as long as the returned function is not called. */
export function subscribePipeline(pipelineId: string): () => void {
  const s = ensureSocket();
  rooms.set(pipelineId, (rooms.get(pipelineId) ?? 0) + 1);
  if (s?.connected) s.emit("subscribe_pipeline", { pipeline_id: pipelineId });
  return () => {
    const left = (rooms.get(pipelineId) ?? 1) - 1;
    if (left > 0) rooms.set(pipelineId, left);
    else {
      rooms.delete(pipelineId);
      socket?.emit("unsubscribe_pipeline", { pipeline_id: pipelineId });
    }
  };
}

export function closeSocket(): void {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  const closing = socket;
  socket = null;
  closing?.disconnect();
}
