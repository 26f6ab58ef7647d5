"""Security headers on every response: pages, notices, JSON, files and the API docs.

One ASGI middleware (:class:`SecurityHeaders`) sets them, so no route can forget them.
The policy forbids every script, allows styles only from this site's stylesheet (plus
the notice's own ``<style>``, allowed by its hash so the notice stays a self-contained
document), images only from this site or ``data:``, fonts only from this site, forms
only to this site, and framing by anyone (clickjacking). Only ``/docs`` may run
scripts, and only the Swagger UI files served from ``/static/vendor/swagger-ui-dist``
(:mod:`.docs`).

Responses are not cached (``no-store``: pages and JSON hold personal data), except the
static files, which hold none.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from waarborg.service.notices import STYLE_HASH

_COMMON = (
    "img-src 'self' data:; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)

#: The policy of every response but the API docs: no scripts, no inline styles.
PAGE_POLICY = f"default-src 'none'; style-src 'self' '{STYLE_HASH}'; {_COMMON}"

#: The API docs page: Swagger UI's own files from this site, and its calls to this site.
DOCS_POLICY = (
    f"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; {_COMMON}"
)

BASE_HEADERS: Mapping[str, str] = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    # browsers heed it only over HTTPS (a plain-HTTP localhost demo is unaffected)
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}

DOCS_PATH = "/docs"
STATIC_PREFIX = "/static/"


def security_headers(path: str) -> dict[str, str]:
    """The security headers of a response to ``path``.

    Examples
    --------
    >>> security_headers("/api/me")["Cache-Control"]
    'no-store'
    >>> "script-src 'self'" in security_headers("/docs")["Content-Security-Policy"]
    True
    >>> "Cache-Control" in security_headers("/static/waarborg.css")
    False
    """
    policy = DOCS_POLICY if path == DOCS_PATH else PAGE_POLICY
    headers = {**BASE_HEADERS, "Content-Security-Policy": policy}
    if not path.startswith(STATIC_PREFIX):
        headers["Cache-Control"] = "no-store"
    return headers


class SecurityHeaders:
    """ASGI middleware: :func:`security_headers` on every HTTP response.

    They replace any a route may have set, so every response carries the same policy.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
