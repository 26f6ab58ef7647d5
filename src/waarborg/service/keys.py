"""The token-signing secret, kept outside the database it protects.

Whoever holds the secret can sign a token for any user, so it must not be readable by
someone who can only read the database. It comes from, in this order:

1. ``WAARBORG_SECRET`` (the secret itself, at least 32 characters);
2. ``WAARBORG_SECRET_FILE`` (a file holding it, readable by its owner only);
3. by default, a file made at first start (mode 0600): beside a SQLite database
   (``waarborg.sqlite`` → ``waarborg.sqlite.secret``), or ``waarborg.secret`` in the
   working folder for PostgreSQL. An in-memory SQLite database gets a key that lives as
   long as the process (as the database does).

Earlier versions kept the secret in the database (``settings`` row ``token_secret``).
The service refuses to start while that row exists; ``waarborg secret move`` deletes it
and writes a new secret to the file (the old one must be taken as known to everyone who
could read the database, so it is not copied).
"""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from waarborg.errors import WaarborgError
from waarborg.service.store.models import Setting
from waarborg.tables import write_private_once

LEGACY_SETTING = "token_secret"
"""The ``settings`` row where versions before 0004 kept the secret."""
DEFAULT_FILE = "waarborg.secret"
MIN_LENGTH = 32


class SecretError(WaarborgError):
    """The secret is missing, too short, readable by others, or still in the database."""


def default_secret_file(database_url: str) -> Path | None:
    """Where the secret lives by default for ``database_url`` (None: in memory only).

    Examples
    --------
    >>> default_secret_file("sqlite:///data/waarborg.sqlite")
    PosixPath('data/waarborg.sqlite.secret')
    >>> default_secret_file("sqlite://") is None
    True
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return Path(DEFAULT_FILE)
    if not url.database or url.database == ":memory:":
        return None
    database = Path(url.database)
    return database.with_name(f"{database.name}.secret")


def load_secret(database_url: str, secret: str | None, secret_file: Path | None) -> str:
    """The signing secret: ``secret`` if given, else read from (or first made in) the file.

    Raises :class:`SecretError` for a short secret or a file others may read.
    """
    if secret is not None:
        return _checked(secret, "WAARBORG_SECRET")
    path = secret_file or default_secret_file(database_url)
    if path is None:
        return secrets.token_urlsafe(MIN_LENGTH)
    return read_or_create(path)


def read_or_create(path: Path) -> str:
    """The secret in ``path``; made there first (mode 0600, atomically) if absent."""
    if not path.exists():
        _create(path)
    mode = path.stat().st_mode
    if stat.S_IMODE(mode) & 0o077:
        raise SecretError(
            f"{path}: the secret file may be read by others (mode {stat.S_IMODE(mode):o}): "
            f"run chmod 600 {path}"
        )
    return _checked(path.read_text(encoding="utf-8").strip(), str(path))


def _create(path: Path) -> None:
    """Write a new secret to ``path`` unless another process just did (never half a file)."""
    write_private_once(path, (secrets.token_urlsafe(MIN_LENGTH) + "\n").encode())


def _checked(secret: str, source: str) -> str:
    if len(secret) < MIN_LENGTH:
        raise SecretError(
            f"{source}: the secret has {len(secret)} characters; it needs at least "
            f"{MIN_LENGTH} (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return secret


def secret_in_database(session: Session) -> bool:
    """Whether the database still holds a token secret (from a version before 0004)."""
    found = session.execute(select(Setting.key).where(Setting.key == LEGACY_SETTING))
    return found.first() is not None


def refuse_secret_in_database(session: Session) -> None:
    """Raise :class:`SecretError`, saying how to fix it, if the database holds a secret."""
    if secret_in_database(session):
        raise SecretError(
            "the token secret is stored in the database (settings row 'token_secret'): "
            "anyone who can read the database can sign tokens with it. Run "
            "'waarborg secret move' once (with the same --database-url): it deletes it "
            "there and writes a new secret to the secret file (see WAARBORG_SECRET_FILE); "
            "every token issued so far ends."
        )


def move_out_of_database(session: Session, secret_file: Path | None, database_url: str) -> Path:
    """Delete the secret from the database and make sure the secret file exists; its path.

    The old secret is not copied: whoever could read the database may know it. Tokens
    signed with it end (they would be refused anyway: they carry no ``jti`` or version).
    """
    path = secret_file or default_secret_file(database_url)
    if path is None:
        raise SecretError("an in-memory database needs no secret file")
    read_or_create(path)
    session.execute(delete(Setting).where(Setting.key == LEGACY_SETTING))
    return path
