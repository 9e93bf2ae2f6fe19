"""Configuration from the environment (SPEC §14).

`create_app(config)` takes a mapping that overrides these; tests pass their database URL and
a fixed secret that way. Nothing here touches the disk or the network at import time.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _instance_path() -> Path:
    return Path(os.environ.get("FIELDCRM_INSTANCE") or (REPO_ROOT / "instance")).resolve()


def load_config(overrides: dict | None = None) -> dict:
    """The effective configuration: defaults, then the environment, then `overrides`."""
    overrides = dict(overrides or {})
    instance = Path(overrides.pop("INSTANCE_PATH", None) or _instance_path())
    database_url = os.environ.get("FIELDCRM_DATABASE_URL") or f"sqlite:///{instance / 'fieldcrm.db'}"
    secret = os.environ.get("FIELDCRM_SECRET_KEY")
    config: dict = {
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "SECRET_KEY": secret,
        "JWT_SECRET_KEY": secret,
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=30),
        "JWT_TOKEN_LOCATION": ["headers"],
        "JWT_ALGORITHM": "HS256",
        "FIELDCRM_TIMEZONE": os.environ.get("FIELDCRM_TIMEZONE", "Asia/Shanghai"),
        # Photos and contract attachments; a shared volume (NFS, CephFS, …) when several hosts serve.
        "PHOTO_DIR": str(Path(os.environ.get("FIELDCRM_PHOTO_DIR") or (instance / "photos")).resolve()),
        "PWA_DIST": os.environ.get("FIELDCRM_PWA_DIST") or str(REPO_ROOT / "pwa" / "dist"),
        # Photos may be 15 MB and a sync push 5 MB; the request cap sits just above both.
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "RATELIMIT_STORAGE_URI": os.environ.get("FIELDCRM_RATELIMIT_STORAGE", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down: count in each process's memory instead of failing every sign-in (the
        # limits then hold per worker, not across hosts, until Redis is back).
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "LOGIN_RATE_LIMIT_PER_IP": "20 per minute",
        # How many reverse proxies (nginx) stand in front; their X-Forwarded-* are trusted.
        "PROXY_COUNT": int(os.environ.get("FIELDCRM_PROXY_COUNT", "0")),
        "API_TITLE": "fieldcrm",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "v1/openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        "JSON_SORT_KEYS": False,
    }
    config.update(overrides)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(Path(config["INSTANCE_PATH"]))
    config.setdefault("JWT_SECRET_KEY", config["SECRET_KEY"])
    if not config.get("JWT_SECRET_KEY"):
        config["JWT_SECRET_KEY"] = config["SECRET_KEY"]
    return config


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in the instance folder, so restarts keep tokens valid."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        import secrets

        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
