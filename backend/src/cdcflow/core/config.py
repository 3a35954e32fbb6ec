"""Settings from the environment (and .stack/env via the Makefile); unsafe defaults refused outside development."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
DEV_SECRET_KEY = "dev-only-secret-key-change-me-0123456789abcdef"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    environment: Literal["development", "test", "production"] = Field(
        default="development", validation_alias="CDCFLOW_ENV"
    )
    database_url: str = "postgresql://cdcflow@127.0.0.1:55432/cdcflow"
    database_connect_timeout: int = 5
    kafka_bootstrap_servers: str = "127.0.0.1:59092"
    kafka_connect_url: str = "http://127.0.0.1:58083"
    jwt_secret: str = DEV_JWT_SECRET
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    # Encrypts connection passwords. Old keys stay listed (comma-separated) so rotated rows remain readable.
    secret_key: str = Field(default=DEV_SECRET_KEY, validation_alias="CDCFLOW_SECRET_KEY")
    secret_keys_previous: str = Field(default="", validation_alias="CDCFLOW_SECRET_KEYS_PREVIOUS")
    login_max_failures_per_user: int = 5
    login_max_failures_per_client: int = 20
    login_failure_window_seconds: int = 300
    connection_test_timeout_seconds: int = 5
    # Where connector passwords are written for Kafka Connect's DirectoryConfigProvider (shared with the worker).
    connect_secrets_dir: str = Field(default=".stack/connect-secrets", validation_alias="CONNECT_SECRETS_DIR")
    connector_start_timeout_seconds: int = 90
    fullload_workers: int = Field(default=4, ge=1, le=64)
    fullload_split_rows: int = Field(default=500_000, ge=1000)
    reconciler_interval_seconds: float = 5.0
    # How often running pipelines' source catalogs are compared with what cdcflow last saw (schema evolution).
    schema_watch_interval_seconds: float = Field(default=2.0, gt=0)
    run_background_services: bool = True
    event_logger_enabled: bool = True
    event_logger_group: str = "cdcflow-event-logger"
    event_logger_topic_regex: str = r"^cdcflow\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[^.]+\..+"
    realtime_cap_per_second: int = Field(default=50, ge=1)
    cors_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:3000", "http://localhost:3000"],
        validation_alias="CDCFLOW_CORS_ORIGINS",
    )

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> "Settings":
        if self.environment == "production" and (
            self.jwt_secret == DEV_JWT_SECRET or len(self.jwt_secret) < 32
        ):
            raise ValueError("JWT_SECRET must be set (32+ characters) outside development")
        if self.environment == "production" and (self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32):
            raise ValueError("CDCFLOW_SECRET_KEY must be set (32+ characters) outside development")
        return self

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
