"""/api/v1/users (admin only)."""

import uuid

from fastapi import APIRouter, Response

from cdcflow.auth.schemas import UserPublic
from cdcflow.core.deps import SessionDep, UserAdmin
from cdcflow.models import User
from cdcflow.users import service
from cdcflow.users.schemas import UserCreate, UserList, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=UserList)
def list_users(actor: UserAdmin, session: SessionDep) -> UserList:
    users = service.list_users(session)
    return UserList(items=[UserPublic.model_validate(u) for u in users], total=len(users))


@router.post("", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, actor: UserAdmin, session: SessionDep) -> User:
    return service.create_user(session, actor, body)


@router.get("/{user_id}", response_model=UserPublic)
def get_user(user_id: uuid.UUID, actor: UserAdmin, session: SessionDep) -> User:
    return service.get_user(session, user_id)


@router.put("/{user_id}", response_model=UserPublic)
def update_user(user_id: uuid.UUID, body: UserUpdate, actor: UserAdmin, session: SessionDep) -> User:
    return service.update_user(session, actor, user_id, body)


@router.delete("/{user_id}", status_code=204)
def delete_user(user_id: uuid.UUID, actor: UserAdmin, session: SessionDep) -> Response:
    service.delete_user(session, actor, user_id)
    return Response(status_code=204)
