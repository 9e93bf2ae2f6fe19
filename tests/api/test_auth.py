"""Sign-in, tokens and their revocation (SPEC R-U2, R-U3, §13)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from api_helpers import bearer, error_of
from conftest import TEST_PASSWORD, Factory

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/me"


def _login(client, username, password=TEST_PASSWORD, **kw):
    return client.post(LOGIN, json={"username": username, "password": password}, **kw)


def _set_user(db_ctx, user, **values):
    from server.org.models import User

    with db_ctx() as session:
        row = session.get(User, user.id)
        for key, value in values.items():
            setattr(row, key, value)
        session.commit()


# ---- login ---------------------------------------------------------------------------------------

def test_login_returns_access_and_refresh_tokens_and_the_user(client, factory):
    rep = factory.user("rep", display_name="王小明")
    r = _login(client, rep.username)
    assert r.status_code == 200, r.json
    assert set(r.json) >= {"access_token", "refresh_token", "user"}
    assert r.json["access_token"] and r.json["refresh_token"]
    assert r.json["access_token"] != r.json["refresh_token"]
    user = r.json["user"]
    assert user["id"] == str(rep.id)
    assert user["username"] == rep.username
    assert user["display_name"] == "王小明"
    assert user["role"] == "rep"
    assert "password" not in user and "password_hash" not in user
    assert client.get(ME, headers=bearer(r.json["access_token"])).status_code == 200


def test_login_username_is_case_insensitive(client, factory):
    rep = factory.user("rep", username="lisi")
    assert _login(client, "LiSi").status_code == 200


def test_wrong_password_is_401_invalid_credentials(client, factory):
    rep = factory.user("rep")
    error_of(_login(client, rep.username, "wrong-password"), 401, "invalid_credentials")


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, factory):
    rep = factory.user("rep")
    wrong = error_of(_login(client, rep.username, "wrong-password"), 401, "invalid_credentials")
    unknown = error_of(_login(client, "nobody-here", "wrong-password"), 401, "invalid_credentials")
    assert unknown["message"] == wrong["message"]


def test_missing_login_fields_are_422(client):
    error = error_of(client.post(LOGIN, json={"username": "x"}), 422, "validation_failed")
    assert "password" in error["details"]["fields"]


def test_account_locks_after_max_failures_and_says_when_it_unlocks(client, factory, db_ctx):
    rep = factory.user("rep")
    for _ in range(4):  # settings login.max_failures defaults to 5
        error_of(_login(client, rep.username, "wrong-password"), 401, "invalid_credentials")
    before = datetime.now(timezone.utc)
    fifth = error_of(_login(client, rep.username, "wrong-password"), 423, "account_locked")
    unlocks_at = datetime.fromisoformat(fifth["details"]["unlocks_at"])
    assert unlocks_at.tzinfo is not None
    assert unlocks_at > before

    # Even the right password is refused while locked, and the answer says until when.
    locked = error_of(_login(client, rep.username), 423, "account_locked")
    assert datetime.fromisoformat(locked["details"]["unlocks_at"]) == unlocks_at

    # Time passes: the lock lies in the past, and the right password works again.
    _set_user(db_ctx, rep, locked_until=datetime.now(timezone.utc) - timedelta(seconds=1))
    assert _login(client, rep.username).status_code == 200


def test_lock_threshold_is_the_login_max_failures_setting(client, factory, db_ctx):
    from server.settings.service import update_settings

    with db_ctx() as session:
        update_settings({"login": {"max_failures": 2}})
        session.commit()
    rep = factory.user("rep")
    error_of(_login(client, rep.username, "wrong-password"), 401, "invalid_credentials")
    error_of(_login(client, rep.username, "wrong-password"), 423, "account_locked")
    error_of(_login(client, rep.username), 423, "account_locked")


def test_a_successful_login_resets_the_failure_count(client, factory):
    rep = factory.user("rep")
    for _ in range(4):
        _login(client, rep.username, "wrong-password")
    assert _login(client, rep.username).status_code == 200
    for _ in range(4):
        error_of(_login(client, rep.username, "wrong-password"), 401, "invalid_credentials")
    assert _login(client, rep.username).status_code == 200


def test_login_is_rate_limited_per_ip(fresh_app):
    app = fresh_app(LOGIN_RATE_LIMIT_PER_IP="3 per minute")
    rep = Factory(app).user("rep")
    client = app.test_client()
    for _ in range(3):
        assert _login(client, rep.username).status_code == 200
    error_of(_login(client, rep.username), 429, "rate_limited")
    # Another address is not limited by the first one's attempts.
    other = _login(client, rep.username, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 200, other.json


# ---- refresh, reuse, logout ----------------------------------------------------------------------

def test_refresh_rotates_both_tokens(client, factory):
    rep = factory.user("rep")
    first = factory.login(rep)
    r = client.post(REFRESH, headers=bearer(first["refresh_token"]))
    assert r.status_code == 200, r.json
    assert r.json["access_token"] != first["access_token"]
    assert r.json["refresh_token"] != first["refresh_token"]
    assert r.json["user"]["id"] == str(rep.id)
    assert client.get(ME, headers=bearer(r.json["access_token"])).status_code == 200
    # The new refresh token rotates again.
    assert client.post(REFRESH, headers=bearer(r.json["refresh_token"])).status_code == 200


def test_an_access_token_cannot_be_used_to_refresh(client, factory):
    rep = factory.user("rep")
    tokens = factory.login(rep)
    error_of(client.post(REFRESH, headers=bearer(tokens["access_token"])), 401, "token_invalid")


def test_a_refresh_token_cannot_be_used_as_an_access_token(client, factory):
    rep = factory.user("rep")
    tokens = factory.login(rep)
    error_of(client.get(ME, headers=bearer(tokens["refresh_token"])), 401, "token_invalid")


def test_reused_refresh_token_is_401_and_revokes_its_whole_family(client, factory):
    rep = factory.user("rep")
    first = factory.login(rep)
    other_session = factory.login(rep)  # another device: a family of its own
    second = client.post(REFRESH, headers=bearer(first["refresh_token"])).json
    third = client.post(REFRESH, headers=bearer(second["refresh_token"])).json

    # The already-exchanged first refresh token comes back (copied by a thief).
    error_of(client.post(REFRESH, headers=bearer(first["refresh_token"])), 401, "token_reused")

    # The newest refresh token and every access token of that family now fail ...
    error_of(client.post(REFRESH, headers=bearer(third["refresh_token"])), 401, "token_revoked")
    for access in (first["access_token"], second["access_token"], third["access_token"]):
        error_of(client.get(ME, headers=bearer(access)), 401, "token_revoked")
    # ... and the revocation sticks although the reuse was answered with an error.
    error_of(client.post(REFRESH, headers=bearer(third["refresh_token"])), 401, "token_revoked")

    # The other device's session is another family and keeps working.
    assert client.get(ME, headers=bearer(other_session["access_token"])).status_code == 200
    assert client.post(REFRESH, headers=bearer(other_session["refresh_token"])).status_code == 200


def test_logout_revokes_the_sessions_tokens(client, factory):
    rep = factory.user("rep")
    tokens = factory.login(rep)
    other = factory.login(rep)
    r = client.post(LOGOUT, headers=bearer(tokens["access_token"]))
    assert r.status_code == 204
    error_of(client.get(ME, headers=bearer(tokens["access_token"])), 401, "token_revoked")
    error_of(client.post(REFRESH, headers=bearer(tokens["refresh_token"])), 401, "token_revoked")
    # Only that session ends.
    assert client.get(ME, headers=bearer(other["access_token"])).status_code == 200


def test_me_returns_the_signed_in_user(client, factory):
    department = factory.department("华东KA一部", line="KA")
    rep = factory.user("rep", department=department, display_name="李雷")
    r = client.get(ME, headers=factory.headers(rep))
    assert r.status_code == 200
    assert r.json["id"] == str(rep.id)
    assert r.json["username"] == rep.username
    assert r.json["display_name"] == "李雷"
    assert r.json["role"] == "rep"
    assert r.json["department_id"] == str(department.id)
    assert r.json["department_name"] == "华东KA一部"
    assert r.json["business_line"] == "KA"
    assert r.json["active"] is True
    assert "password_hash" not in r.json


# ---- deactivation ---------------------------------------------------------------------------------

def test_deactivated_user_tokens_fail_at_once_and_login_says_inactive(client, factory):
    admin = factory.user("admin")
    rep = factory.user("rep")
    tokens = factory.login(rep)
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 200

    r = client.patch(f"/api/v1/admin/users/{rep.id}", json={"active": False}, headers=factory.headers(admin))
    assert r.status_code == 200, r.json
    assert r.json["active"] is False
    assert r.json["deactivated_at"]

    error_of(client.get(ME, headers=bearer(tokens["access_token"])), 401, "account_inactive")
    error_of(client.post(REFRESH, headers=bearer(tokens["refresh_token"])), 401, "account_inactive")
    error_of(_login(client, rep.username), 401, "account_inactive")


def test_reactivated_user_can_log_in_again_but_old_tokens_stay_dead(client, factory):
    admin = factory.user("admin")
    rep = factory.user("rep")
    old = factory.login(rep)
    h = factory.headers(admin)
    client.patch(f"/api/v1/admin/users/{rep.id}", json={"active": False}, headers=h)
    assert client.patch(f"/api/v1/admin/users/{rep.id}", json={"active": True}, headers=h).status_code == 200
    assert _login(client, rep.username).status_code == 200
    error_of(client.get(ME, headers=bearer(old["access_token"])), 401, "token_revoked")
    error_of(client.post(REFRESH, headers=bearer(old["refresh_token"])), 401, "token_revoked")


def test_password_change_revokes_existing_tokens(client, factory):
    admin = factory.user("admin")
    rep = factory.user("rep")
    old = factory.login(rep)
    r = client.patch(f"/api/v1/admin/users/{rep.id}", json={"password": "a-brand-new-pass"},
                     headers=factory.headers(admin))
    assert r.status_code == 200
    error_of(client.get(ME, headers=bearer(old["access_token"])), 401, "token_revoked")
    error_of(_login(client, rep.username), 401, "invalid_credentials")
    assert _login(client, rep.username, "a-brand-new-pass").status_code == 200


# ---- bad tokens -------------------------------------------------------------------------------------

def test_expired_access_token_is_401_token_expired(app, client, factory):
    from flask_jwt_extended import create_access_token, decode_token

    rep = factory.user("rep")
    tokens = factory.login(rep)
    with app.app_context():
        claims = decode_token(tokens["access_token"])
        expired = create_access_token(
            identity=str(rep.id), expires_delta=timedelta(seconds=-30),
            additional_claims={k: claims[k] for k in ("gen", "fam", "role")})
    error_of(client.get(ME, headers=bearer(expired)), 401, "token_expired")


def test_garbage_token_is_401_token_invalid(client):
    error_of(client.get(ME, headers=bearer("not.a.jwt")), 401, "token_invalid")
    error_of(client.get(ME, headers=bearer("abc")), 401, "token_invalid")


def test_token_signed_with_another_key_is_401_token_invalid(app, client, factory):
    import jwt as pyjwt

    rep = factory.user("rep")
    tokens = factory.login(rep)
    with app.app_context():
        from flask_jwt_extended import decode_token

        claims = decode_token(tokens["access_token"])
    forged = pyjwt.encode({**claims, "role": "admin"}, "some-other-secret-key-of-enough-length", algorithm="HS256")
    error_of(client.get(ME, headers=bearer(forged)), 401, "token_invalid")


def test_missing_token_is_401_unauthenticated(client):
    error_of(client.get(ME), 401, "unauthenticated")


# ---- passwords ----------------------------------------------------------------------------------------

def test_passwords_are_stored_as_argon2id(client, factory, db_ctx):
    from server.org.models import User

    admin = factory.user("admin")
    department = factory.department()
    r = client.post("/api/v1/admin/users", headers=factory.headers(admin), json={
        "username": "zhaoliu", "password": "s3cret-password", "display_name": "赵六", "role": "rep",
        "department_id": str(department.id)})
    assert r.status_code == 201, r.json
    with db_ctx() as session:
        for user_id in (admin.id, uuid.UUID(r.json["id"])):
            stored = session.get(User, user_id)
            assert stored.password_hash.startswith("$argon2id$")
            assert "s3cret-password" not in stored.password_hash
            assert TEST_PASSWORD not in stored.password_hash
