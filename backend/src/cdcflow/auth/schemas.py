"""Auth request and response bodies."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cdcflow.models import Role


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=16, max_length=256)


class TokenPair(BaseModel):
    access_token: str
    # Absent when the browser asked for it as an httpOnly cookie (X-Token-Transport: cookie).
    refresh_token: str | None = None
    token_type: str = "bearer"
    expires_in: int


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    username: str
    role: Role
    active: bool
    created_at: datetime
    last_login_at: datetime | None = None
