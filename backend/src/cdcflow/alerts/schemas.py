"""Alert bodies. A channel's URL and secret go in and never come out: responses carry a hint and has_secret."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cdcflow.alerts.channels import validate_url

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,99}$"
RuleKind = Literal["pipeline_error", "degraded", "lag_seconds", "retained_wal_bytes", "event_logger_down",
                   "no_events"]
ChannelKind = Literal["webhook", "slack"]

# The threshold's unit per kind; kinds not listed take no threshold.
THRESHOLD_UNITS: dict[str, str] = {"degraded": "minutes", "lag_seconds": "seconds", "retained_wal_bytes": "bytes",
                                   "no_events": "minutes"}
GLOBAL_ONLY = {"event_logger_down"}


def check_rule_shape(kind: str, threshold: float | None, pipeline_id: uuid.UUID | None) -> None:
    """Raises ValueError with a message for people (turned into a 422)."""
    unit = THRESHOLD_UNITS.get(kind)
    if unit and threshold is None:
        raise ValueError(f"a {kind} rule needs a threshold (in {unit})")
    if not unit and threshold is not None:
        raise ValueError(f"a {kind} rule takes no threshold")
    if kind in GLOBAL_ONLY and pipeline_id is not None:
        raise ValueError(f"a {kind} rule watches the whole installation; leave pipeline_id empty")


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    kind: ChannelKind
    url: str = Field(min_length=8, max_length=2000, description="http(s) URL; stored encrypted, never returned")
    secret: str | None = Field(None, min_length=16, max_length=256,
                               description="HMAC-SHA256 key of a generic webhook; stored encrypted, never returned")
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return validate_url(value)

    @model_validator(mode="after")
    def _webhooks_are_signed(self) -> "ChannelCreate":
        if self.kind == "webhook" and not self.secret:
            raise ValueError("a webhook channel needs a secret (16+ characters) to sign its notifications")
        if self.kind == "slack" and self.secret:
            raise ValueError("Slack incoming webhooks are not signed; leave secret empty")
        return self


class ChannelUpdate(BaseModel):
    """Every field optional; an omitted URL or secret keeps the stored one."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=100, pattern=NAME_PATTERN)
    url: str | None = Field(None, min_length=8, max_length=2000)
    secret: str | None = Field(None, min_length=16, max_length=256)
    enabled: bool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else validate_url(value)


class ChannelPublic(BaseModel):
    id: uuid.UUID
    name: str
    kind: ChannelKind
    url_hint: str
    has_secret: bool
    enabled: bool
    owner_id: uuid.UUID | None = Field(None, description="manages it; others reach it by a grant (admins always)")
    created_at: datetime
    updated_at: datetime


class ChannelList(BaseModel):
    items: list[ChannelPublic]


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    kind: RuleKind
    pipeline_id: uuid.UUID | None = Field(None, description="None: every pipeline")
    threshold: float | None = Field(None, gt=0, le=1e15, description="unit by kind: see threshold_unit")
    channel_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    enabled: bool = True

    @model_validator(mode="after")
    def _shape(self) -> "RuleCreate":
        check_rule_shape(self.kind, self.threshold, self.pipeline_id)
        return self


class RuleUpdate(BaseModel):
    """Every field optional; pipeline_id and threshold may be set to null explicitly."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=100, pattern=NAME_PATTERN)
    kind: RuleKind | None = None
    pipeline_id: uuid.UUID | None = None
    threshold: float | None = Field(None, gt=0, le=1e15)
    channel_ids: list[uuid.UUID] | None = Field(None, max_length=20)
    enabled: bool | None = None


class ChannelRef(BaseModel):
    id: uuid.UUID
    name: str
    kind: ChannelKind


class RulePublic(BaseModel):
    id: uuid.UUID
    name: str
    kind: RuleKind
    pipeline_id: uuid.UUID | None
    pipeline_name: str | None
    threshold: float | None
    threshold_unit: str | None
    channels: list[ChannelRef]
    enabled: bool
    firing: int = Field(description="open alerts of this rule (one per pipeline at most) on pipelines you may see")
    owner_id: uuid.UUID | None = Field(None, description="the rule watches only what its owner may see")
    created_at: datetime
    updated_at: datetime


class RuleList(BaseModel):
    items: list[RulePublic]


class DeliveryPublic(BaseModel):
    id: int
    channel_id: uuid.UUID | None
    channel_name: str
    notification: Literal["firing", "resolved", "test"]
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    response_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class AlertEventPublic(BaseModel):
    id: int
    rule_id: uuid.UUID | None
    rule_name: str
    rule_kind: str
    pipeline_id: uuid.UUID | None
    pipeline_name: str | None
    state: Literal["firing", "resolved"]
    message: str
    value: float | None
    threshold: float | None
    fired_at: datetime
    resolved_at: datetime | None
    resolution: str | None
    link: str
    deliveries: list[DeliveryPublic]


class AlertHistory(BaseModel):
    items: list[AlertEventPublic]
    next_before_id: int | None


class TestResult(BaseModel):
    __test__ = False  # not a pytest class
    channel_id: uuid.UUID
    ok: bool
    status_code: int | None
    error: str | None
    latency_ms: float
