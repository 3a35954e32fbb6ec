"""User management bodies; passwords go in, never out."""

from pydantic import BaseModel, ConfigDict, Field

from cdcflow.auth.schemas import UserPublic
from cdcflow.models import Role

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=USERNAME_PATTERN)
    password: str = Field(min_length=8, max_length=256)
    role: Role = Role.VIEWER


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str | None = Field(default=None, min_length=8, max_length=256)
    role: Role | None = None
    active: bool | None = None


class UserList(BaseModel):
    items: list[UserPublic]
    total: int
