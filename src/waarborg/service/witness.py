"""The audit log's witness: its head, signed, kept outside the database.

Someone who can write to the database can delete the last entries of the hash-chained log
and reset its head, or rewrite the chain after some point with recomputed hashes: the
chain alone then still verifies. The witness makes both visible. After every commit that
appended entries, one *head record* is appended to a file outside the database::

    {"at":"2026-12-01T10:00:00.123456+00:00","first":41,"hashes":["…","…"],"seq":42,
     "type":"head","v":1,"sig":"…"}

``first``..``seq`` are the numbers of the entries that commit appended and ``hashes``
their hashes. ``sig`` is an Ed25519 signature (base64url) of the record without ``sig``
as canonical JSON (sorted keys, no spaces, UTF-8). The private key lives in a file of
its own (mode 0600, made at first start), never in the database; its public key is
written beside it, so an auditor can check the witness with the public key alone.
``type: "checkpoint"`` records (``seq``, ``hash``) mark where an incremental
verification of the chain got to (see :func:`waarborg.service.auditlog.verify_recent`).

**Order.** The record is written *after* the database commit, so the witness is never
ahead of the database (a commit that fails is never witnessed). A crash between the two
leaves the newest entries unwitnessed; :func:`waarborg.service.auditlog.verify` accepts
entries after the last witnessed one when they chain on correctly and reports how many
there are. The next commit's record pins them (each hash covers every entry before it).

Settings (environment variables, also :class:`WitnessSettings` arguments):

* ``WAARBORG_WITNESS``: the witness file. Default for a SQLite file ``x.sqlite``:
  ``x.sqlite.witness`` beside it. PostgreSQL has no file to stand beside: the setting is
  required there (e.g. ``/var/lib/waarborg/waarborg.witness`` on the application host).
* ``WAARBORG_WITNESS_KEY_FILE``: the private key, default ``<witness>.key``; the public
  key is ``<witness>.pub`` (``<key file>`` with the suffix ``.pub``).
* ``WAARBORG_WITNESS_URL``: also POST each record (JSON) there, from a background thread;
  best effort (failures are logged).
* ``WAARBORG_WITNESS_SYSLOG=1``: also send each record to the local syslog.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import logging
import os
import queue
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import make_url

from waarborg.errors import WaarborgError
from waarborg.tables import write_private_once

log = logging.getLogger("waarborg.witness")

VERSION = 1
ENV_PATH = "WAARBORG_WITNESS"
ENV_KEY = "WAARBORG_WITNESS_KEY_FILE"
ENV_URL = "WAARBORG_WITNESS_URL"
ENV_SYSLOG = "WAARBORG_WITNESS_SYSLOG"


class WitnessError(WaarborgError):
    """The witness is not configured or cannot be read."""


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept (the text that is signed)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def default_path(database_url: str) -> Path | None:
    """The default witness file for a database: beside a SQLite file, else None.

    Examples
    --------
    >>> default_path("sqlite:///data/waarborg.sqlite")
    PosixPath('data/waarborg.sqlite.witness')
    >>> default_path("postgresql+psycopg://app@db/waarborg") is None
    True
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(f"{url.database}.witness")


@dataclass(frozen=True)
class WitnessSettings:
    """Where the witness goes; see the module docstring for the environment variables."""

    path: Path
    key_file: Path
    url: str | None = None
    syslog: bool = False

    @property
    def public_key_file(self) -> Path:
        """The public key, beside the private key (suffix ``.pub``)."""
        return self.key_file.with_suffix(".pub")

    @classmethod
    def from_env(cls, database_url: str) -> WitnessSettings | None:
        """The settings for ``database_url``; None for an in-memory SQLite database.

        Raises
        ------
        WitnessError
            For PostgreSQL without ``WAARBORG_WITNESS``.
        """
        given = os.environ.get(ENV_PATH)
        path = Path(given) if given else default_path(database_url)
        if path is None:
            if make_url(database_url).get_backend_name() == "sqlite":
                return None  # in memory: gone with the process, nothing to witness
            raise WitnessError(
                f"set {ENV_PATH} to a file outside the database (e.g. "
                "/var/lib/waarborg/waarborg.witness): the audit log's head is witnessed there"
            )
        return cls.at(path)

    @classmethod
    def at(cls, path: Path) -> WitnessSettings:
        """The settings for the witness file ``path`` (key file and the rest from the
        environment)."""
        key = os.environ.get(ENV_KEY)
        return cls(
            path=path,
            key_file=Path(key) if key else Path(f"{path}.key"),
            url=os.environ.get(ENV_URL) or None,
            syslog=os.environ.get(ENV_SYSLOG, "0") not in ("", "0"),
        )


def load_or_make_key(key_file: Path) -> Ed25519PrivateKey:
    """The private key in ``key_file``; made (mode 0600, with its ``.pub``) if absent.

    Several server processes may start at once: the key is written to a temporary file
    and linked into place, so exactly one key wins and nobody reads a half-written one.
    """
    if not key_file.exists():
        new = Ed25519PrivateKey.generate()
        pem = new.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_private_once(key_file, pem)
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise WitnessError(f"{key_file}: not an Ed25519 private key")
    public = key_file.with_suffix(".pub")
    pem_public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if not public.exists() or public.read_bytes() != pem_public:
        tmp_public = public.with_name(f".{public.name}.{os.getpid()}.{threading.get_ident()}")
        tmp_public.write_bytes(pem_public)
        tmp_public.replace(public)
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (what an auditor is given)."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise WitnessError(f"{path}: cannot read the witness's public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise WitnessError(f"{path}: not an Ed25519 public key")
    return key


def fingerprint(key: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key (hex), to compare with a copy kept elsewhere."""
    import hashlib

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


@dataclass
class Witness:
    """Writes signed head and checkpoint records; see the module docstring.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> w = Witness(WitnessSettings(folder / "w", folder / "w.key"))
    >>> w.head(1, ["ab" * 32])
    >>> [r.seq for r in read_records(w.settings.path, w.public_key())]
    [1]
    """

    settings: WitnessSettings
    _key: Ed25519PrivateKey | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _outbox: queue.Queue[bytes] | None = field(default=None, repr=False)
    _fd: int | None = field(default=None, repr=False)

    def key(self) -> Ed25519PrivateKey:
        """The private key (made at first use)."""
        with self._lock:
            if self._key is None:
                self._key = load_or_make_key(self.settings.key_file)
            return self._key

    def public_key(self) -> Ed25519PublicKey:
        """The public key that checks this witness's records."""
        return self.key().public_key()

    def _file(self) -> int:
        """The witness file, opened for appending once per process."""
        with self._lock:
            if self._fd is None:
                self.settings.path.parent.mkdir(parents=True, exist_ok=True)
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
                self._fd = os.open(self.settings.path, flags, 0o640)
            return self._fd

    def close(self) -> None:
        """Close the witness file (it is opened again when needed)."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def head(self, first: int, hashes: list[str]) -> None:
        """Witness one commit: entries ``first``.. with these ``hashes``."""
        self._write(
            {"type": "head", "first": first, "seq": first + len(hashes) - 1, "hashes": hashes}
        )

    def checkpoint(self, seq: int, hash_: str) -> None:
        """Record that the chain was verified up to entry ``seq`` (hash ``hash_``)."""
        self._write({"type": "checkpoint", "seq": seq, "hash": hash_})

    def _write(self, body: dict[str, Any]) -> None:
        body = {**body, "v": VERSION, "at": datetime.now(UTC).isoformat(timespec="microseconds")}
        signature = self.key().sign(canonical(body).encode())
        line = (canonical({**body, "sig": _b64(signature)}) + "\n").encode()
        append_line(self._file(), line)
        if self.settings.syslog:
            import syslog

            syslog.syslog(syslog.LOG_INFO | syslog.LOG_AUTH, "waarborg-witness " + line.decode())
        if self.settings.url:
            self._post(line)

    def _post(self, line: bytes) -> None:
        with self._lock:
            if self._outbox is None:
                self._outbox = queue.Queue(maxsize=10_000)
                threading.Thread(target=self._sender, daemon=True, name="witness-url").start()
        try:
            self._outbox.put_nowait(line)
        except queue.Full:
            log.error("witness URL %s is not keeping up: a record was not sent", self.settings.url)

    def _sender(self) -> None:
        assert self._outbox is not None
        while True:
            line = self._outbox.get()
            request = urllib.request.Request(
                str(self.settings.url),
                data=line,
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    response.read()
            except OSError as exc:
                log.error("witness URL %s: %s", self.settings.url, exc)


def append_line(fd: int, line: bytes) -> None:
    """Append ``line`` to the file open (``O_APPEND``) at ``fd``: one write, under an
    exclusive lock against other processes; then fsync outside the lock, so concurrent
    commits share one disk flush instead of queueing for it."""
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        os.write(fd, line)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.fsync(fd)


@dataclass(frozen=True)
class WitnessRecord:
    """One line of the witness, its signature checked (``valid``) or not."""

    line: int
    type: str
    seq: int
    first: int
    hashes: tuple[str, ...]
    at: str
    valid: bool
    problem: str | None = None

    def hash_of(self, seq: int) -> str:
        """The witnessed hash of entry ``seq`` (``first`` <= seq <= ``self.seq``)."""
        return self.hashes[seq - self.first]


def parse_record(text: str, number: int, key: Ed25519PublicKey) -> WitnessRecord:
    """A witness line, its signature checked against ``key``."""
    try:
        data = json.loads(text)
        signature = _unb64(data.pop("sig"))
        kind, seq, at = str(data["type"]), int(data["seq"]), str(data["at"])
        if kind == "head":
            first, hashes = int(data["first"]), tuple(str(h) for h in data["hashes"])
            if len(hashes) != seq - first + 1 or first < 1:
                raise ValueError("its hashes do not match its numbers")
        elif kind == "checkpoint":
            first, hashes = seq, (str(data["hash"]),)
        else:
            raise ValueError(f"unknown record type {kind!r}")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        where = f"line {number}" if number else "a line"
        return WitnessRecord(number, "?", 0, 0, (), "", False, f"{where} is unreadable: {exc}")
    try:
        key.verify(signature, canonical(data).encode())
    except InvalidSignature:
        where = f"line {number}" if number else "a line"
        problem = f"{where} (entry {seq}) has a bad signature: forged or altered"
        return WitnessRecord(number, kind, seq, first, hashes, at, False, problem)
    return WitnessRecord(number, kind, seq, first, hashes, at, True)


def read_records(path: Path, key: Ed25519PublicKey) -> Iterator[WitnessRecord]:
    """Every record of the witness file, in file order (none if there is no file yet)."""
    with contextlib.suppress(FileNotFoundError), path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if text.endswith("\n") and text.strip():  # a line being written is not read yet
                yield parse_record(text, number, key)


def records_since_checkpoint(
    path: Path, key: Ed25519PublicKey, block: int = 1 << 16
) -> tuple[WitnessRecord | None, list[WitnessRecord]]:
    """The last valid checkpoint and every record after it, reading the file from its end.

    Only the witness's tail is read (blocks of ``block`` bytes backwards until a valid
    checkpoint line), so the cost does not grow with the log.
    """
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None, []
    after: list[WitnessRecord] = []
    with handle:
        pos = handle.seek(0, os.SEEK_END)
        pending = b""
        first_block = True
        while pos > 0:
            start = max(0, pos - block)
            handle.seek(start)
            lines = (handle.read(pos - start) + pending).split(b"\n")
            pos = start
            if first_block:
                lines.pop()  # empty after the final newline, or a line still being written
                first_block = False
            pending = lines.pop(0) if pos > 0 else b""  # may be cut at the block's edge
            for raw in reversed(lines):
                if not raw.strip():
                    continue
                record = parse_record(raw.decode("utf-8", "replace"), 0, key)
                if record.valid and record.type == "checkpoint":
                    return record, after[::-1]
                after.append(record)
    return None, after[::-1]
