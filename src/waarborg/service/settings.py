"""The service's settings: from arguments, else from ``WAARBORG_*`` environment variables.

* ``database_url``: ``WAARBORG_DATABASE_URL``, default ``sqlite:///waarborg.sqlite``
* ``secret``: ``WAARBORG_SECRET``, default: read from the secret file
* ``secret_file``: ``WAARBORG_SECRET_FILE``, default: made at first start beside a SQLite
  database, or ``waarborg.secret`` in the working folder (see :mod:`.keys`)
* ``token_minutes``: ``WAARBORG_TOKEN_MINUTES``, default 480 (a working day), at most 720
* ``max_body_bytes``: ``WAARBORG_MAX_BODY_BYTES``, default 1 MB
* ``retention_interval_s``: ``WAARBORG_RETENTION_INTERVAL``, default 3600 (0: none)
* ``rubber_stamp_seconds``: ``WAARBORG_RUBBER_STAMP_SECONDS``, default 30
* ``login_failures``: ``WAARBORG_LOGIN_FAILURES``, default 5 failed sign-ins per account
* ``login_address_failures``: ``WAARBORG_LOGIN_ADDRESS_FAILURES``, default 20 per client address
* ``login_global_failures``: ``WAARBORG_LOGIN_GLOBAL_FAILURES``, default 1000 in all
* ``login_window_s``: ``WAARBORG_LOGIN_WINDOW``, default 300 (the window of the three limits)
* ``login_tracked_keys``: ``WAARBORG_LOGIN_TRACKED_KEYS``, default 10000 accounts (and addresses)
* ``login_threads``: ``WAARBORG_LOGIN_THREADS``, default 2 sign-ins at once (argon2)
* ``trusted_proxies``: ``WAARBORG_TRUSTED_PROXIES``, comma-separated addresses or networks
  whose ``X-Forwarded-For`` is believed; default none
* ``threads``: ``WAARBORG_THREADS``, default 8 per server process
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from waarborg.errors import WaarborgError

DEFAULT_DATABASE_URL = "sqlite:///waarborg.sqlite"
ENV_DATABASE_URL = "WAARBORG_DATABASE_URL"
MAX_TOKEN_MINUTES = 720
"""The longest a token may live (12 hours, ASVS 3.3.2): a longer one is refused."""


def database_url(given: str | None = None) -> str:
    """The database URL: ``given``, else ``WAARBORG_DATABASE_URL``, else the SQLite file.

    Examples
    --------
    >>> database_url("sqlite:///x.sqlite")
    'sqlite:///x.sqlite'
    """
    return given or os.environ.get(ENV_DATABASE_URL) or DEFAULT_DATABASE_URL


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def _env_list(name: str) -> tuple[str, ...]:
    value = os.environ.get(name, "")
    return tuple(item.strip() for item in value.split(",") if item.strip())


class SettingsError(WaarborgError, ValueError):
    """A setting out of its range (the message names the variable and the range)."""


@dataclass(frozen=True)
class Settings:
    """Everything the service can be configured with; see the module docstring.

    Parameters
    ----------
    database_url
        SQLAlchemy URL: ``sqlite:///file.sqlite`` or ``postgresql+psycopg://user@host/db``.
    secret
        HMAC key that signs bearer tokens (at least 32 characters); None: the one in
        ``secret_file``.
    secret_file
        The file that holds the secret (made, mode 0600, if absent); None: beside the
        SQLite database, or ``waarborg.secret`` in the working folder for PostgreSQL.
    token_minutes
        How long a bearer token is valid, 1 to :data:`MAX_TOKEN_MINUTES`; a token whose
        lifetime (``exp - iat``) is longer than this is refused.
    max_body_bytes
        Largest request body accepted (larger: 413).
    retention_interval_s
        Seconds between scheduled retention runs inside the server; 0 turns them off.
    rubber_stamp_seconds
        A decision taken sooner than this after the score was first opened is flagged.
    login_failures, login_address_failures, login_global_failures, login_window_s
        At most this many failed sign-ins per account (user name), per client address and
        in all within ``login_window_s`` seconds; then 429 with ``Retry-After``.
    login_tracked_keys
        Most accounts (and, apart, addresses) whose failures are remembered; the least
        recently failed is forgotten first. Keep it above ``login_global_failures``: then
        failures under fresh names cannot push a locked account out within one window.
    login_threads
        Sign-ins verified at once, on threads of their own (argon2 takes a core and 64 MiB
        for a while, by design): about one per core. More logins wait their turn without
        holding the endpoints' threads (``threads``).
    trusted_proxies
        Addresses or networks (CIDR) of reverse proxies whose ``X-Forwarded-For`` header
        names the client; from anyone else the header is ignored. Default: none.
    threads
        Worker threads per server process for the endpoints. The work is mostly Python
        (CPU, one interpreter lock per process), so a few per core suffice; more only
        lengthen the latency tail under load (measured in ``bench/bench_service.py``).
    cookie_secure
        Send the web session cookie only over HTTPS (``Secure``). Turn off only for a
        server on plain-HTTP localhost (``WAARBORG_COOKIE_SECURE=0``, as ``waarborg demo
        --serve`` does).
    """

    database_url: str = DEFAULT_DATABASE_URL
    secret: str | None = None
    secret_file: Path | None = None
    token_minutes: int = 480
    max_body_bytes: int = 1_000_000
    retention_interval_s: int = 3600
    rubber_stamp_seconds: float = 30.0
    login_failures: int = 5
    login_address_failures: int = 20
    login_global_failures: int = 1000
    login_window_s: int = 300
    login_tracked_keys: int = 10_000
    login_threads: int = 2
    trusted_proxies: tuple[str, ...] = ()
    threads: int = 8
    cookie_secure: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.token_minutes <= MAX_TOKEN_MINUTES:
            raise SettingsError(
                f"WAARBORG_TOKEN_MINUTES is {self.token_minutes}: give 1 to {MAX_TOKEN_MINUTES}"
            )

    @classmethod
    def from_env(cls, database_url_: str | None = None, **overrides: Any) -> Settings:
        """Settings from the environment, with ``overrides`` (non-None values) on top."""
        base = cls(
            database_url=database_url(database_url_),
            secret=os.environ.get("WAARBORG_SECRET") or None,
            secret_file=Path(os.environ["WAARBORG_SECRET_FILE"])
            if os.environ.get("WAARBORG_SECRET_FILE")
            else None,
            token_minutes=_env_int("WAARBORG_TOKEN_MINUTES", 480),
            max_body_bytes=_env_int("WAARBORG_MAX_BODY_BYTES", 1_000_000),
            retention_interval_s=_env_int("WAARBORG_RETENTION_INTERVAL", 3600),
            rubber_stamp_seconds=_env_float("WAARBORG_RUBBER_STAMP_SECONDS", 30.0),
            login_failures=_env_int("WAARBORG_LOGIN_FAILURES", 5),
            login_address_failures=_env_int("WAARBORG_LOGIN_ADDRESS_FAILURES", 20),
            login_global_failures=_env_int("WAARBORG_LOGIN_GLOBAL_FAILURES", 1000),
            login_window_s=_env_int("WAARBORG_LOGIN_WINDOW", 300),
            login_tracked_keys=_env_int("WAARBORG_LOGIN_TRACKED_KEYS", 10_000),
            login_threads=_env_int("WAARBORG_LOGIN_THREADS", 2),
            trusted_proxies=_env_list("WAARBORG_TRUSTED_PROXIES"),
            threads=_env_int("WAARBORG_THREADS", 8),
            cookie_secure=_env_int("WAARBORG_COOKIE_SECURE", 1) != 0,
        )
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})
