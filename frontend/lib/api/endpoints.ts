// Typed calls to the backend; request and response types come from the generated OpenAPI schema.
import { api } from "@/lib/api/client";
import type { components } from "@/lib/api/schema";

type S = components["schemas"];
export type UserPublic = S["UserPublic"];
export type Role = UserPublic["role"];
export type TokenPair = S["TokenPair"];
export type Connection = S["ConnectionPublic"];
export type ConnectionCreate = S["ConnectionCreate"];
export type ConnectionUpdate = S["ConnectionUpdate"];
export type ConnectionTestResult = S["ConnectionTestResult"];
export type TableInfo = S["TableInfo"];
export type Pipeline = S["PipelinePublic"];
export type PipelineCreate = S["PipelineCreate"];
export type PipelineMode = Pipeline["mode"];
export type PipelineStatusView = S["PipelineStatusView"];
export type PipelineUpdate = S["PipelineUpdate"];
export type Problem = S["ProblemView"];
export type WalFigures = S["WalView"];
export type PlatformHealth = S["PlatformHealth"];
export type PipelineProgressView = S["PipelineProgressView"];
export type SyncStats = S["SyncStats"];
export type Dashboard = S["Dashboard"];
export type EventsPage = S["EventsPage"];
export type CdcEvent = S["Event"];
export type PipelineLatency = S["PipelineLatency"];
export type EventLoggerStatus = S["EventLoggerStatus"];
export type UserCreate = S["UserCreate"];
export type AccessLevel = S["AccessLevel"];
export type ResourceAccess = S["ResourceAccess"];
export type GrantPublic = S["GrantPublic"];
export type ResourceKind = "pipelines" | "connections";
export type AlertRule = S["RulePublic"];
export type AlertRuleCreate = S["RuleCreate"];
export type AlertRuleUpdate = S["RuleUpdate"];
export type AlertRuleKind = AlertRule["kind"];
export type AlertChannel = S["ChannelPublic"];
export type AlertChannelCreate = S["ChannelCreate"];
export type AlertEvent = S["AlertEventPublic"];
export type AlertTestResult = S["TestResult"];
export type SchemaChange = S["SchemaChangePublic"];
export type SchemaChangePolicy = Pipeline["schema_change_policy"];
export type SchemaPolicyUpdate = S["SchemaPolicyUpdate"];
export type RowHistory = S["RowHistory"];
export type ReplayResult = S["ReplayResult"];
export type ReplayPreview = S["ReplayPreview"];
export type RowChange = S["RowChange"];

/** GET /monitoring/metrics. `replication`: per pipeline id, the slot lag last observed (null: not yet). */
export type Metrics = Omit<S["Metrics"], "replication"> & {
  replication: Record<string, { lag_bytes?: number | null; lag_seconds?: number | null } | null> };
export type Timeseries = S["Timeseries"];

export type EventFilters = { pipeline_id?: string; table?: string; event_type?: string; before_id?: number;
  limit?: number; since?: string; until?: string };

// The refresh token never reaches page script: the client sends these with X-Token-Transport: cookie.
export const authApi = {
  login: (username: string, password: string) =>
    api().post<TokenPair>("/auth/login", { username, password }).then((r) => r.data),
  me: () => api().get<UserPublic>("/auth/me").then((r) => r.data),
  logout: () => api().post("/auth/logout"),
};

export const connectionsApi = {
  list: () => api().get<S["ConnectionList"]>("/connections").then((r) => r.data.items),
  create: (body: ConnectionCreate) => api().post<Connection>("/connections", body).then((r) => r.data),
  update: (id: string, body: ConnectionUpdate) => api().put<Connection>(`/connections/${id}`, body).then((r) => r.data),
  remove: (id: string) => api().delete(`/connections/${id}`),
  /** The Test of a connection not saved yet (the form's fields): nothing is stored. */
  testDraft: (body: ConnectionCreate) =>
    api().post<ConnectionTestResult>("/connections/test", body).then((r) => r.data),
  test: (id: string, tables: string[] = []) =>
    api().post<ConnectionTestResult>(`/connections/${id}/test`, { tables }).then((r) => r.data),
  tables: (id: string) => api().get<TableInfo[]>(`/connections/${id}/tables`).then((r) => r.data),
};

export const pipelinesApi = {
  list: () => api().get<S["PipelineList"]>("/pipelines", { params: { limit: 200 } }).then((r) => r.data.items),
  get: (id: string) => api().get<Pipeline>(`/pipelines/${id}`).then((r) => r.data),
  create: (body: PipelineCreate) => api().post<Pipeline>("/pipelines", body).then((r) => r.data),
  update: (id: string, body: PipelineUpdate) => api().put<Pipeline>(`/pipelines/${id}`, body).then((r) => r.data),
  remove: (id: string) => api().delete(`/pipelines/${id}`),
  action: (id: string, action: "start" | "stop" | "pause" | "resume") =>
    api().post<Pipeline>(`/pipelines/${id}/${action}`).then((r) => r.data),
  status: (id: string) => api().get<PipelineStatusView>(`/pipelines/${id}/status`).then((r) => r.data),
  progress: (id: string) => api().get<PipelineProgressView>(`/pipelines/${id}/progress`).then((r) => r.data),
  syncStats: (id: string) => api().post<SyncStats>(`/pipelines/${id}/sync-stats`).then((r) => r.data),
  rowHistory: (id: string, table: string, key: string) =>
    api().get<RowHistory>(`/pipelines/${id}/row-history`, { params: { table, key } }).then((r) => r.data),
  replayPreview: (id: string, table: string, key: Record<string, unknown>) =>
    api().post<ReplayPreview>(`/pipelines/${id}/row-history/replay/preview`, { table, key }).then((r) => r.data),
  replayRow: (id: string, table: string, key: Record<string, unknown>) =>
    api().post<ReplayResult>(`/pipelines/${id}/row-history/replay`, { table, key }).then((r) => r.data),
};

/** Ways back for a broken pipeline, tables on a running one, and the schema change policy. */
export const recoveryApi = {
  restart: (id: string, failedOnly = true) =>
    api().post<Pipeline>(`/pipelines/${id}/restart`, null, { params: { failed_only: failedOnly } }).then((r) => r.data),
  resync: (id: string, table: string) =>
    api().post<Pipeline>(`/pipelines/${id}/tables/${table}/resync`).then((r) => r.data),
  addTable: (id: string, table: string) => api().post<Pipeline>(`/pipelines/${id}/tables`, { table }).then((r) => r.data),
  removeTable: (id: string, table: string) =>
    api().delete<Pipeline>(`/pipelines/${id}/tables/${table}`).then((r) => r.data),
  reset: (id: string, confirm: string) => api().post<Pipeline>(`/pipelines/${id}/reset`, { confirm }).then((r) => r.data),
  setPolicy: (id: string, body: SchemaPolicyUpdate) =>
    api().put<Pipeline>(`/pipelines/${id}/schema-policy`, body).then((r) => r.data),
  schemaChanges: (id: string) =>
    api().get<S["SchemaChangeList"]>(`/pipelines/${id}/schema-changes`).then((r) => r.data.items),
};

export const monitoringApi = {
  dashboard: (pipelineId?: string) =>
    api().get<Dashboard>("/monitoring/dashboard", { params: { pipeline_id: pipelineId } }).then((r) => r.data),
  events: (filters: EventFilters) =>
    api().get<EventsPage>("/monitoring/events", { params: filters }).then((r) => r.data),
  loggerStatus: () => api().get<EventLoggerStatus>("/monitoring/event-logger-status").then((r) => r.data),
  health: () => api().get<PlatformHealth>("/monitoring/health").then((r) => r.data),
  timeseries: (params: { pipeline_id?: string; metric?: string; bucket?: string; hours?: number }) =>
    api().get<Timeseries>("/monitoring/timeseries", { params }).then((r) => r.data),
  metrics: (pipelineId?: string) =>
    api().get<Metrics>("/monitoring/metrics", { params: { pipeline_id: pipelineId } }).then((r) => r.data),
  latency: (pipelineId: string) =>
    api().get<PipelineLatency>(`/monitoring/pipelines/${pipelineId}/latency`).then((r) => r.data),
};

export const usersApi = {
  list: () => api().get<S["UserList"]>("/users").then((r) => r.data.items),
  create: (body: UserCreate) => api().post<UserPublic>("/users", body).then((r) => r.data),
  update: (id: string, body: S["UserUpdate"]) => api().put<UserPublic>(`/users/${id}`, body).then((r) => r.data),
  remove: (id: string) => api().delete(`/users/${id}`),
};

// Owners and grants of one pipeline or connection (admins only).
export const accessApi = {
  get: (kind: ResourceKind, id: string) => api().get<ResourceAccess>(`/${kind}/${id}/grants`).then((r) => r.data),
  grant: (kind: ResourceKind, id: string, userId: string, level: AccessLevel) =>
    api().put<GrantPublic>(`/${kind}/${id}/grants/${userId}`, { level }).then((r) => r.data),
  revoke: (kind: ResourceKind, id: string, userId: string) => api().delete(`/${kind}/${id}/grants/${userId}`),
  setOwner: (kind: ResourceKind, id: string, userId: string | null) =>
    api().put<ResourceAccess>(`/${kind}/${id}/owner`, { user_id: userId }).then((r) => r.data),
};

export const alertsApi = {
  rules: () => api().get<S["RuleList"]>("/alerts/rules").then((r) => r.data.items),
  createRule: (body: AlertRuleCreate) => api().post<AlertRule>("/alerts/rules", body).then((r) => r.data),
  updateRule: (id: string, body: AlertRuleUpdate) =>
    api().put<AlertRule>(`/alerts/rules/${id}`, body).then((r) => r.data),
  removeRule: (id: string) => api().delete(`/alerts/rules/${id}`),
  channels: () => api().get<S["ChannelList"]>("/alerts/channels").then((r) => r.data.items),
  createChannel: (body: AlertChannelCreate) =>
    api().post<AlertChannel>("/alerts/channels", body).then((r) => r.data),
  updateChannel: (id: string, body: S["ChannelUpdate"]) =>
    api().put<AlertChannel>(`/alerts/channels/${id}`, body).then((r) => r.data),
  removeChannel: (id: string) => api().delete(`/alerts/channels/${id}`),
  testChannel: (id: string) => api().post<AlertTestResult>(`/alerts/channels/${id}/test`).then((r) => r.data),
  history: (params: { pipeline_id?: string; state?: "firing" | "resolved"; limit?: number; before_id?: number } = {}) =>
    api().get<S["AlertHistory"]>("/alerts/history", { params }).then((r) => r.data),
};
