"""Settings from the environment (and .stack/env via the Makefile); unsafe defaults refused outside development."""

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cdcflow.engine.outbound import AllowList

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
DEV_SECRET_KEY = "dev-only-secret-key-change-me-0123456789abcdef"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    environment: Literal["development", "test", "production"] = Field(
        default="development", validation_alias="CDCFLOW_ENV"
    )
    database_url: str = "postgresql://cdcflow@127.0.0.1:25432/cdcflow"
    database_connect_timeout: int = 5
    kafka_bootstrap_servers: str = "127.0.0.1:29092"
    kafka_connect_url: str = "http://127.0.0.1:28083"
    # Every worker of the Connect cluster (comma-separated; stackctl writes it); empty: kafka_connect_url alone.
    kafka_connect_urls: str = ""
    # Basic-auth credentials for Connect's REST API. The password file is read at each use, so a rotated password
    # needs no API restart; KAFKA_CONNECT_PASSWORD, if set, wins over the file.
    kafka_connect_user: str | None = None
    kafka_connect_password: SecretStr | None = None
    kafka_connect_password_file: str | None = None
    jwt_secret: str = DEV_JWT_SECRET
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    # Encrypts connection passwords. Old keys stay listed (comma-separated) so rotated rows remain readable.
    secret_key: str = Field(default=DEV_SECRET_KEY, validation_alias="CDCFLOW_SECRET_KEY")
    secret_keys_previous: str = Field(default="", validation_alias="CDCFLOW_SECRET_KEYS_PREVIOUS")
    # GET /metrics accepts this bearer token (for Prometheus) as well as any user's access token.
    metrics_token: SecretStr | None = Field(default=None, validation_alias="CDCFLOW_METRICS_TOKEN")
    login_max_failures_per_user: int = Field(default=5, ge=1)
    login_max_failures_per_client: int = Field(default=20, ge=1)
    login_failure_window_seconds: int = Field(default=300, ge=1)
    login_backoff_max_seconds: float = Field(default=900, ge=1)
    login_known_client_days: float = Field(default=30, ge=0)
    login_limiter_max_keys: int = Field(default=10_000, ge=100)
    # Request bodies above this are refused with 413 before anything else reads them (authentication included).
    max_body_bytes: int = Field(default=1_048_576, ge=1024, validation_alias="CDCFLOW_MAX_BODY_BYTES")
    connection_test_timeout_seconds: int = 5
    # Where source and target databases may be: host names, `*.domain` wildcards, addresses and CIDR ranges,
    # comma-separated; "*" is any host. cdcflow's own service ports and metadata database are refused regardless.
    allowed_db_hosts: str = Field(default="*", validation_alias="CDCFLOW_ALLOWED_DB_HOSTS")
    # Where alert webhooks may be sent: the same syntax. cdcflow's own service ports are refused regardless.
    allowed_webhook_hosts: str = Field(default="*", validation_alias="CDCFLOW_ALLOWED_WEBHOOK_HOSTS")
    # The ports of cdcflow's own services on this host, which are never a database (stackctl writes them).
    api_port: int = Field(default=8000, validation_alias="CDCFLOW_API_PORT")
    web_port: int = Field(default=3000, validation_alias="CDCFLOW_WEB_PORT")
    kafka_controller_port: int | None = Field(default=None, validation_alias="CDCFLOW_KAFKA_CONTROLLER_PORT")
    # Where connector passwords are written for Kafka Connect's DirectoryConfigProvider (shared with the worker).
    connect_secrets_dir: str = Field(default=".stack/connect-secrets", validation_alias="CONNECT_SECRETS_DIR")
    connector_start_timeout_seconds: int = 90
    fullload_workers: int = Field(default=4, ge=1, le=64)
    fullload_split_rows: int = Field(default=500_000, ge=1000)
    reconciler_interval_seconds: float = 5.0
    # How often a process tries to become the cluster leader (core/leader.py), and a leader checks it still is.
    leader_interval_seconds: float = Field(default=2.0, gt=0, le=60)
    # A start/stop job renews its lease every lease/3 seconds; another API process takes it over once it lapses.
    job_lease_seconds: float = Field(default=15.0, ge=3)
    # Where people open the web app: links in alert notifications point at its pipeline pages.
    ui_url: str = Field(default="http://127.0.0.1:3000", validation_alias="CDCFLOW_UI_URL")
    alert_eval_interval_seconds: float = Field(default=10.0, ge=1)
    alert_delivery_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    alert_delivery_max_attempts: int = Field(default=5, ge=1, le=20)
    # Health (monitoring/monitor.py): how often the data plane is observed, how long a probe may take, and when
    # observations are too old to call anything "ok".
    health_interval_seconds: float = Field(default=2.0, gt=0, le=60)
    health_probe_timeout_seconds: float = Field(default=2.0, ge=1, le=30)
    health_max_age_seconds: float = Field(default=10.0, gt=0)
    # No sink commit this long while its lag grows = stalled. Must exceed the Connect worker's
    # offset.flush.interval.ms (1 s in cdcflow's stack; Kafka's default is 60 s).
    health_sink_stall_seconds: float = Field(default=15.0, gt=0)
    health_slot_grace_seconds: float = Field(default=2.0, ge=0)
    # How often running pipelines' source catalogs are compared with what cdcflow last saw (schema evolution).
    schema_watch_interval_seconds: float = Field(default=2.0, gt=0)
    run_background_services: bool = True
    event_logger_enabled: bool = True
    event_logger_group: str = "cdcflow-event-logger"
    event_logger_topic_regex: str = r"^cdcflow\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[^.]+\..+"
    realtime_cap_per_second: int = Field(default=50, ge=1)
    # Socket.IO pushes go through PostgreSQL LISTEN/NOTIFY (events/relay.py), so an event stored by any logger process
    # reaches browsers on any API process; false: the in-process logger pushes to this process's sockets only.
    realtime_relay: bool = True
    # How often open sockets are re-checked for sessions ended outside this process (ended here: at once).
    realtime_session_recheck_seconds: float = Field(default=15, gt=0)
    cors_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:3000", "http://localhost:3000"],
        validation_alias="CDCFLOW_CORS_ORIGINS",
    )
    # The refresh cookie's Secure flag; unset: Secure when the request came over https. Set true behind a proxy
    # that terminates TLS (the API does not trust X-Forwarded-Proto).
    auth_cookie_secure: bool | None = Field(default=None, validation_alias="CDCFLOW_COOKIE_SECURE")

    @field_validator("cors_origins")
    @classmethod
    def _explicit_origins(cls, origins: list[str]) -> list[str]:
        # CORS runs with credentials (the refresh cookie): a wildcard would make Starlette echo any Origin back.
        for origin in origins:
            if not re.fullmatch(r"https?://[^/*\s]+", origin):
                raise ValueError(f"CDCFLOW_CORS_ORIGINS must list exact origins like http://host:port, not {origin!r}")
        return origins

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> "Settings":
        if self.environment == "production" and (
            self.jwt_secret == DEV_JWT_SECRET or len(self.jwt_secret) < 32
        ):
            raise ValueError("JWT_SECRET must be set (32+ characters) outside development")
        if self.environment == "production" and (self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32):
            raise ValueError("CDCFLOW_SECRET_KEY must be set (32+ characters) outside development")
        AllowList.parse(self.allowed_db_hosts)  # a typo in the policy stops the start, not every connection
        AllowList.parse(self.allowed_webhook_hosts, "CDCFLOW_ALLOWED_WEBHOOK_HOSTS")
        return self

    def connect_urls(self) -> list[str]:
        """The Connect workers cdcflow may talk to, in order of preference: KAFKA_CONNECT_URL first when it is set
        (or when KAFKA_CONNECT_URLS is not), then every worker KAFKA_CONNECT_URLS lists."""
        urls = [u.strip().rstrip("/") for u in self.kafka_connect_urls.split(",") if u.strip()]
        if "kafka_connect_url" in self.model_fields_set or not urls:
            urls.insert(0, self.kafka_connect_url.rstrip("/"))
        return list(dict.fromkeys(urls))

    def connect_auth(self) -> tuple[str, str] | None:
        """(user, password) for Kafka Connect's REST API, or None when no user is configured."""
        if not self.kafka_connect_user:
            return None
        if self.kafka_connect_password is not None:
            return self.kafka_connect_user, self.kafka_connect_password.get_secret_value()
        if self.kafka_connect_password_file:
            return self.kafka_connect_user, Path(self.kafka_connect_password_file).read_text().strip()
        raise ValueError("KAFKA_CONNECT_USER is set but neither KAFKA_CONNECT_PASSWORD nor "
                         "KAFKA_CONNECT_PASSWORD_FILE is")

    @property
    def sqlalchemy_url(self) -> str:
        """The metadata DSN for SQLAlchemy, always on the psycopg 3 driver."""
        url = self.database_url
        for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix):]
        return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
