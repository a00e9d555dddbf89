"""/api/users: accounts and roles (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from api.deps import DbDep, principal_of, require
from api.schemas.common import Id
from api.schemas.users import UserCreate, UserPublic, UserUpdate
from controller.accounts import users
from controller.errors import Conflict
from controller.store.models import User

router = APIRouter(prefix="/api/users", tags=["users"])
Admin = principal_of("users.write")


@router.get("", response_model=list[UserPublic], dependencies=[Depends(require("users.read"))])
def list_users(db: DbDep):
    return db.scalars(select(User).order_by(User.email)).all()


@router.post("", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, db: DbDep, admin: Admin):
    # the same rule as a PATCH with a password: an admin-set password is one-time
    return users.create(db, body.email, body.password, body.role, name=body.name, must_change=True)


@router.get("/{user_id}", response_model=UserPublic, dependencies=[Depends(require("users.read"))])
def get_user(user_id: Id, db: DbDep):
    return users.get(db, user_id)


@router.patch("/{user_id}", response_model=UserPublic)
def update_user(user_id: Id, body: UserUpdate, db: DbDep, admin: Admin):
    user = users.get(db, user_id)
    demoting = (body.role is not None and body.role != "admin") or body.active is False
    if user.role == "admin" and demoting and users.admins_left(db, excluding=user.id) == 0:
        raise Conflict("this is the last active admin")
    if body.name is not None:
        user.name = body.name
    if body.role is not None:
        user.role = body.role
    if body.active is not None:
        user.active = body.active
        if not body.active:
            users.revoke_all_sessions(db, user, "account disabled")
    if body.password is not None:
        users.set_one_time_password(db, user, body.password)
    return user


@router.delete("/{user_id}", status_code=204)
def delete_user(user_id: Id, db: DbDep, admin: Admin, response: Response):
    user = users.get(db, user_id)
    if user.role == "admin" and users.admins_left(db, excluding=user.id) == 0:
        raise Conflict("this is the last active admin")
    db.delete(user)
    response.status_code = 204
    return response
