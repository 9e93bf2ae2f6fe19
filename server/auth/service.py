"""Login, token rotation with reuse detection, logout, revocation (SPEC R-U2, R-U3, §13)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy import select, update

from server.auth.models import RefreshToken, TokenFamily
from server.common import audit
from server.common.db import utcnow
from server.common.errors import AppError, Unauthenticated
from server.common.passwords import dummy_verify, verify_password
from server.extensions import db
from server.org.models import User
from server.settings.service import get_settings


class LoginFailed(AppError):
    status, code = 401, "invalid_credentials"


class AccountLocked(AppError):
    status, code = 423, "account_locked"


def login(username: str, password: str, user_agent: str | None = None) -> tuple[dict, User]:
    """Check the password; count failures per account and lock after too many.

    The failure counter must survive the error answer, so the caller commits even when this
    raises `LoginFailed` or `AccountLocked` (see the view).
    """
    policy = get_settings().login
    now = utcnow()
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()).with_for_update(of=User))
    if user is None:
        dummy_verify(password)
        raise LoginFailed("Wrong username or password")
    if user.locked_until and user.locked_until > now:
        raise _locked(user)
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= policy.max_failures:
            user.locked_until = now + timedelta(minutes=policy.lock_minutes)
            user.failed_logins = 0
            audit.record("user.lock", "user", user.id, {"locked_until": [None, user.locked_until]})
            db.session.flush()
            raise _locked(user)
        db.session.flush()
        raise LoginFailed("Wrong username or password",
                          details={"attempts_left": policy.max_failures - user.failed_logins})
    if not user.active:
        raise LoginFailed("This account is deactivated", code="account_inactive")
    user.failed_logins, user.locked_until = 0, None
    family = TokenFamily(user_id=user.id, user_agent=(user_agent or "")[:300])
    db.session.add(family)
    db.session.flush()
    audit.record("auth.login", "user", user.id, {}, actor_id=user.id)
    return _issue(user, family), user


def _locked(user: User) -> AccountLocked:
    return AccountLocked(
        "Too many failed logins; the account is locked until the time given",
        details={"unlocks_at": user.locked_until.isoformat()},
    )


def _issue(user: User, family: TokenFamily) -> dict:
    claims = {"gen": user.token_generation, "fam": str(family.id), "role": user.role.value}
    access = create_access_token(identity=str(user.id), additional_claims=claims)
    refresh = create_refresh_token(identity=str(user.id), additional_claims=claims)
    decoded = decode_token(refresh)
    db.session.add(RefreshToken(jti=decoded["jti"], family_id=family.id,
                                expires_at=datetime.fromtimestamp(decoded["exp"], timezone.utc)))
    db.session.flush()
    return {"access_token": access, "refresh_token": refresh}


def refresh(jwt_payload: dict, user: User) -> dict:
    """Rotate: the presented refresh token is spent and a new pair issued in its family.

    A spent token presented again means it was copied: the whole family is revoked, so the
    thief's and the owner's tokens both stop working (the owner logs in again).
    """
    token = db.session.scalar(select(RefreshToken).where(RefreshToken.jti == jwt_payload["jti"]).with_for_update())
    family = db.session.get(TokenFamily, uuid.UUID(jwt_payload["fam"])) if token else None
    if token is None or family is None:
        raise Unauthenticated("Unknown refresh token", code="token_invalid")
    if token.used_at is not None:
        revoke_family(family, "reuse")
        audit.record("auth.refresh_reuse", "user", user.id, {"family": [None, str(family.id)]}, actor_id=user.id)
        raise Unauthenticated("This refresh token was already used; sign in again", code="token_reused")
    token.used_at = utcnow()
    return _issue(user, family)


def revoke_family(family: TokenFamily, reason: str) -> None:
    if family.revoked_at is None:
        family.revoked_at, family.revoked_reason = utcnow(), reason
    db.session.flush()


def logout(jwt_payload: dict) -> None:
    family = db.session.get(TokenFamily, uuid.UUID(jwt_payload["fam"]))
    if family:
        revoke_family(family, "logout")


def revoke_all_tokens(user: User) -> None:
    """Every access and refresh token of the user fails on its next use."""
    user.token_generation += 1
    db.session.execute(
        update(TokenFamily).where(TokenFamily.user_id == user.id, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason="revoked")
    )
    db.session.flush()


def token_problem(jwt_payload: dict) -> str | None:
    """Why a decoded token may not be used any more, or None. Runs on every request."""
    try:
        user = db.session.get(User, uuid.UUID(jwt_payload["sub"]))
        family = db.session.get(TokenFamily, uuid.UUID(jwt_payload["fam"]))
    except (KeyError, ValueError):
        return "token_invalid"
    if user is None or not user.active:
        return "account_inactive"
    if jwt_payload.get("gen") != user.token_generation:
        return "token_revoked"
    if family is None or family.revoked_at is not None:
        return "token_revoked"
    return None
