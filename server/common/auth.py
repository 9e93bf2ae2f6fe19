"""Who is calling: the JWT callbacks and role checks used by every view."""
from __future__ import annotations

import uuid
from functools import wraps

from flask_jwt_extended import current_user, get_jwt, verify_jwt_in_request

from server.common.errors import NotAuthorized, envelope
from server.extensions import db, jwt
from server.org.models import Role, User


def init_jwt() -> None:
    @jwt.user_identity_loader
    def _identity(identity):
        return str(identity)

    @jwt.user_lookup_loader
    def _lookup(_header, payload):
        return db.session.get(User, uuid.UUID(payload["sub"]))

    @jwt.token_in_blocklist_loader
    def _revoked(_header, payload) -> bool:
        from server.auth.service import token_problem

        return token_problem(payload) is not None

    @jwt.revoked_token_loader
    def _revoked_answer(_header, payload):
        from server.auth.service import token_problem

        problem = token_problem(payload) or "token_revoked"
        return envelope(problem, "This session has ended; sign in again", {}, 401)

    @jwt.expired_token_loader
    def _expired(_header, _payload):
        return envelope("token_expired", "The token has expired", {}, 401)

    @jwt.invalid_token_loader
    def _invalid(reason: str):
        return envelope("token_invalid", "The token is not valid", {"reason": reason}, 401)

    @jwt.unauthorized_loader
    def _missing(reason: str):
        return envelope("unauthenticated", "Sign in first", {"reason": reason}, 401)

    @jwt.needs_fresh_token_loader
    def _fresh(_header, _payload):
        return envelope("fresh_token_required", "Sign in again", {}, 401)

    @jwt.user_lookup_error_loader
    def _lookup_error(_header, _payload):
        return envelope("account_inactive", "This account no longer exists", {}, 401)

    @jwt.token_verification_failed_loader
    def _claims_failed(_header, _payload):
        return envelope("token_invalid", "The token is not valid", {}, 401)


def login_required(*roles: Role, refresh: bool = False):
    """Require a valid access token (or refresh token) and, when given, one of the roles."""

    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(refresh=refresh)
            if roles and current_user.role not in roles:
                raise NotAuthorized("Your role may not use this", details={"role": current_user.role.value})
            return fn(*args, **kwargs)

        return wrapper

    return decorator


def me() -> User:
    return current_user


def jwt_payload() -> dict:
    return get_jwt()
