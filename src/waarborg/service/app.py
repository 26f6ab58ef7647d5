"""The FastAPI application: :func:`create_app` wires settings, database, API and schedule.

The app is a thin layer: the rules live in :mod:`waarborg.service.casework`,
:mod:`~waarborg.service.oversight`, :mod:`~waarborg.service.retention` and
:mod:`~waarborg.service.notices`; the JSON API under ``/api`` calls them. Server-rendered
pages (:mod:`waarborg.service.web`) call the same functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from waarborg import __version__
from waarborg.service import keys, retention, signin, web
from waarborg.service.api import router as api_router
from waarborg.service.api.deps import ServiceState
from waarborg.service.errors import (
    InvalidError,
    ServiceError,
    TooManyAttemptsError,
    UnauthorisedError,
)
from waarborg.service.settings import Settings
from waarborg.service.signin import SignInLimiter
from waarborg.service.store import Database
from waarborg.service.validation import (
    invalid_response,
    lone_surrogate,
    request_validation_error,
)
from waarborg.service.web.headers import SecurityHeaders

log = logging.getLogger("waarborg.service")

DESCRIPTION = """
Where a risk instrument meets people: a case worker sees a score and decides; the person
concerned is told; oversight sees whether people really decide.

Log in with `POST /api/token` (form fields `username`, `password`) and send the token as
`Authorization: Bearer <token>`. A case is visible only to case workers and supervisors of
a team of its process (anyone else gets 404). Every read and write of personal data is
recorded in a hash-chained audit log.
"""


def create_app(database_url: str | None = None, settings: Settings | None = None) -> FastAPI:
    """The waarborg service on ``database_url`` (default: see :mod:`.settings`).

    The schema is brought up to date (Alembic), the audit log's witness key made if
    absent, and the token secret read from outside the database (made at first start: see
    :mod:`.keys`), so the app is ready when this returns. A secret found in the database
    stops the start (:class:`.keys.SecretError`, saying how to move it out).
    """
    settings = settings or Settings.from_env(database_url)
    db = Database(settings.database_url)
    db.upgrade()
    if db.witness is not None:  # PostgreSQL without WAARBORG_WITNESS fails here, at start
        db.witness.key()  # the signing key is made at first start (0600, beside the witness)
    with db.transaction() as session:
        keys.refuse_secret_in_database(session)
    secret = keys.load_secret(settings.database_url, settings.secret, settings.secret_file)
    limiter = SignInLimiter.of(settings)
    app = FastAPI(
        title="waarborg",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan,
        docs_url=None,  # FastAPI's pages load Swagger UI and ReDoc from a CDN: ours (web.docs)
        redoc_url=None,
    )
    app.state.waarborg = ServiceState(
        settings,
        db,
        secret,
        limiter,
        name_key=signin.name_key(secret),
        trusted_proxies=signin.trusted_networks(settings.trusted_proxies),
        signin_threads=ThreadPoolExecutor(settings.login_threads, "waarborg-signin"),
    )
    app.add_middleware(StrictJson)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: every answer gets the headers
    _add_error_handlers(app)
    app.include_router(api_router)
    app.include_router(web.router)
    app.include_router(web.docs.router)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size the worker threads, run retention on a schedule, close the database at the end."""
    state: ServiceState = app.state.waarborg
    anyio.to_thread.current_default_thread_limiter().total_tokens = state.settings.threads
    task = None
    if state.settings.retention_interval_s > 0:
        task = asyncio.create_task(_retention_loop(state))
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        state.db.dispose()


async def _retention_loop(state: ServiceState) -> None:
    while True:
        try:
            report = await asyncio.to_thread(retention.run, state.db)
            if report.deleted:
                log.info("retention: deleted %d cases", report.deleted)
        except Exception:  # keep the schedule alive; the next run tries again
            log.exception("retention run failed")
        await asyncio.sleep(state.settings.retention_interval_s)


def _add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, request_validation_error)

    @app.exception_handler(web.pages.LoginRequiredError)
    async def login_required(request: Request, exc: web.pages.LoginRequiredError) -> Response:
        return web.pages.error_page(request, exc)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        if not request.url.path.startswith("/api"):
            return web.pages.error_page(request, exc)
        body: dict[str, Any] = {"detail": exc.message}
        headers = {}
        if isinstance(exc, InvalidError) and exc.field:
            body["field"] = exc.field
        if isinstance(exc, UnauthorisedError):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, TooManyAttemptsError):
            headers["Retry-After"] = str(exc.retry_after)
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        return JSONResponse({"detail": "conflicts with a concurrent change: retry"}, 409)

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> JSONResponse:
        return JSONResponse({"detail": "a value does not fit the database (too large?)"}, 422)

    @app.exception_handler(OperationalError)
    async def operational_error(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", exc)
        return JSONResponse(
            {"detail": "the database is busy or unavailable: retry"}, 503, {"Retry-After": "1"}
        )


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, whether declared or streamed.

    A body with a ``Content-Length`` is judged by it (the server holds the client to it);
    a streamed (chunked) body is read here, up to the limit, and handed on whole.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await self._refuse(scope, send)
                return
            await self.app(scope, receive, send)
            return
        body, other = await _read_body(receive, self.max_bytes)
        if other is not None:
            await self.app(scope, _replay(other), send)
        elif len(body) > self.max_bytes:
            await self._refuse(scope, send)
        else:
            await self.app(scope, _replay({"type": "http.request", "body": body}, receive), send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"request body too large: at most {self.max_bytes} bytes"}, 413
        )
        await response(scope, _replay({"type": "http.disconnect"}), send)


class StrictJson:
    """Refuse a JSON body with text that is not valid Unicode (a lone surrogate) with 422.

    Python reads ``"\\ud800"`` as a string that no database, log or answer can hold, so it
    is refused here, for every route, before any of them sees it
    (:func:`waarborg.service.validation.lone_surrogate`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        body, other = await _read_body(receive)
        if other is not None:
            await self.app(scope, _replay(other), send)
        elif lone_surrogate(body):
            error = {"loc": ["body"], "msg": "text is not valid Unicode (a lone surrogate)"}
            response = invalid_response([{**error, "type": "unicode_invalid"}])
            await response(scope, _replay({"type": "http.disconnect"}), send)
        else:
            await self.app(scope, _replay({"type": "http.request", "body": body}, receive), send)


async def _read_body(
    receive: Receive, max_bytes: int | None = None
) -> tuple[bytes, Message | None]:
    """The request body, read whole; stops past ``max_bytes`` (if given).

    A message other than the body's (the client went away) ends the reading and is
    returned second, to be handed on.
    """
    body, more = b"", True
    while more and (max_bytes is None or len(body) <= max_bytes):
        message = await receive()
        if message["type"] != "http.request":
            return body, message
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body, None


def _is_json(scope: Scope) -> bool:
    """Whether FastAPI reads the body as JSON (as it does without a content type too)."""
    given = dict(scope.get("headers", [])).get(b"content-type", b"")
    kind = given.split(b";")[0].strip().lower()
    return kind in (b"", b"application/json") or (
        kind.startswith(b"application/") and kind.endswith(b"+json")
    )


def _replay(first: Message, then: Receive | None = None) -> Receive:
    """A receive callable that gives ``first`` once, then defers to ``then``."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
