"""User accounts: creation, lookup, password changes."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from controller.errors import Conflict, Invalid, NotFound
from controller.roles import ROLES
from controller.security.passwords import hash_password, password_problem
from controller.store.models import RefreshToken, User, UserSession, utcnow


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create(db: Session, email: str, password: str, role: str, *, name: str = "",
           must_change: bool = False, check_strength: bool = True) -> User:
    email = normalise_email(email)
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}", errors=[{"field": "role", "message": f"one of {', '.join(ROLES)}"}])
    if check_strength and (problem := password_problem(password)):
        raise Invalid(f"password {problem}", errors=[{"field": "password", "message": problem}])
    if by_email(db, email) is not None:
        raise Conflict(f"a user with email {email} already exists")
    user = User(email=email, name=name, role=role, password_hash=hash_password(password),
                password_change_required=must_change)
    db.add(user)
    db.flush()
    return user


def by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == normalise_email(email)))


def get(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def count(db: Session) -> int:
    return db.scalar(select(func.count(User.id))) or 0


def set_password(db: Session, user: User, password: str) -> None:
    if problem := password_problem(password):
        raise Invalid(f"password {problem}", errors=[{"field": "new_password", "message": problem}])
    user.password_hash = hash_password(password)
    user.password_change_required = False
    revoke_all_sessions(db, user, "password changed")


def set_one_time_password(db: Session, user: User, password: str) -> None:
    """A password an admin sets is one-time, as one given at creation (create(must_change=True)):
    the admin knows it, so the user must choose their own at first sign-in."""
    set_password(db, user, password)
    user.password_change_required = True


def revoke_all_sessions(db: Session, user: User, reason: str) -> None:
    """Every session of the account ends: refresh tokens die, access tokens are refused."""
    db.execute(update(RefreshToken).where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
               .values(revoked_at=utcnow()).execution_options(synchronize_session="fetch"))
    db.execute(update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
               .values(ended_at=utcnow(), end_reason=reason).execution_options(synchronize_session=False))


def admins_left(db: Session, excluding: int) -> int:
    return db.scalar(select(func.count(User.id)).where(User.role == "admin", User.active.is_(True),
                                                       User.id != excluding)) or 0
