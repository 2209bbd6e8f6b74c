"""Settings from the environment (and an optional instance/config.py).

Production refuses to start without SECRET_KEY; development and tests get a
throw-away one. DATABASE_URL selects the database (SQLite file under instance/
by default, PostgreSQL through psycopg 3 in production).
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _milliseconds(value: str | None, default: int) -> int:
    if value is None or not value.strip():
        return default
    if not value.strip().isdigit():
        raise RuntimeError(f"DB_LOCK_TIMEOUT_MS={value!r}: give a whole number of milliseconds")
    return int(value)


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// spellings and route them to psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_environment(instance_path: str) -> dict:
    env = os.environ
    mode = env.get("WUJI_ENV", "development")
    settings: dict = {
        "ENV_NAME": mode,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            env.get("DATABASE_URL") or "sqlite:///" + os.path.join(instance_path, "wuji.sqlite")
        ),
        "SECRET_KEY": env.get("SECRET_KEY"),
        # Key that encrypts signing keys at rest; defaults to SECRET_KEY.
        "KEY_ENCRYPTION_SECRET": env.get("KEY_ENCRYPTION_SECRET"),
        "STORAGE_DIR": env.get("STORAGE_DIR") or os.path.join(instance_path, "storage"),
        "CITY_POLICY": env.get("CITY_POLICY", "default"),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL") or None,
        "TIMESTAMP_URL": env.get("TIMESTAMP_URL") or None,
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), mode == "production"),
        "BEHIND_PROXY": _bool(env.get("BEHIND_PROXY"), False),
        "BABEL_DEFAULT_LOCALE": env.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN"),
        "DB_LOCK_TIMEOUT_MS": _milliseconds(env.get("DB_LOCK_TIMEOUT_MS"), Defaults.DB_LOCK_TIMEOUT_MS),
        # Mail of notifications (notify/mail.py): none is mailed without MAIL_SERVER.
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT") or 0) or None,
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS"), False),
        "MAIL_USE_SSL": _bool(env.get("MAIL_USE_SSL"), False),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER") or None,
    }
    return settings


class Defaults:
    """Values every deployment shares unless overridden."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # How long a statement waits for a lock held by another transaction before the
    # request gives up with 503 "busy" (SQLite busy_timeout, PostgreSQL lock_timeout).
    DB_LOCK_TIMEOUT_MS = 15000
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = "translations"
    LANGUAGES = ("zh_Hans_CN", "en")
    PASSWORD_HASH_METHOD = "scrypt"  # werkzeug's scrypt: n=2**15, r=8, p=1
    LOGIN_MAX_FAILURES = 5
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
    PAGE_SIZE = 50


def _instance_secret(instance_path: str) -> str:
    """A random development key kept in instance/ (never in the repository)."""
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        os.makedirs(instance_path, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    with open(path) as handle:
        return handle.read().strip()


def finalise(config: dict, instance_path: str) -> None:
    """Refuse unsafe production settings; fill development defaults."""
    if not config.get("SECRET_KEY"):
        if config.get("ENV_NAME") == "production":
            raise RuntimeError("SECRET_KEY must be set in production (export SECRET_KEY=...)")
        config["SECRET_KEY"] = secrets.token_hex(32) if config.get("TESTING") else _instance_secret(instance_path)
    if config.get("ENV_NAME") == "production" and not config.get("PUBLIC_BASE_URL"):
        # Signed documents carry their verification link: never take it from a request's Host.
        raise RuntimeError("PUBLIC_BASE_URL must be set in production (export PUBLIC_BASE_URL=https://...)")
    if not config.get("KEY_ENCRYPTION_SECRET"):
        config["KEY_ENCRYPTION_SECRET"] = config["SECRET_KEY"]
    config["REMEMBER_COOKIE_SECURE"] = config.get("SESSION_COOKIE_SECURE", False)
