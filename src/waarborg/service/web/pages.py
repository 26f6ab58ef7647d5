"""The pages: log in, queue, case (score, explanation, decision), notice, oversight,
processes and the audit log.

Each page opens the request's transaction as the logged-in user (the session cookie
holds the API's signed token) and calls the core functions; errors are the core's own
(404 outside the process, 403 for the wrong role, 409, 422) and are shown as a page by
:func:`error_page`. Every POST form is checked for its CSRF token first.
"""

from __future__ import annotations

import base64
import contextlib
import html
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as FastAPIPath
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session

from waarborg.i18n import Message
from waarborg.instruments.explain import explain
from waarborg.report.i18n import fmt_number
from waarborg.service import (
    accounts,
    auditlog,
    casework,
    evidence,
    notices,
    oversight,
    selectivity,
)
from waarborg.service.api.deps import MAX_ID, as_user, log_in, state
from waarborg.service.auth import actor, csrf_ok, csrf_token
from waarborg.service.errors import (
    ForbiddenError,
    InvalidError,
    PasswordChangeRequiredError,
    ServiceError,
    TooManyAttemptsError,
    UnauthorisedError,
)
from waarborg.service.schemas import DecisionIn, OutcomeIn, ProcessIn
from waarborg.service.store.models import ReferenceDraw, User
from waarborg.service.web.charts import agreement_svg
from waarborg.service.web.i18n import LANGS, Lang, gettext, refusal, templates

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "waarborg_session"
LOGIN_COOKIE = "waarborg_login_csrf"
LANG_COOKIE = "waarborg_lang"
R = TypeVar("R", bound=Response)
router = APIRouter(include_in_schema=False)


class LoginRequiredError(Exception):
    """No valid web session: the page redirects to the login page."""


# --------------------------------------------------------------------------- plumbing


def language(request: Request) -> Lang:
    """The page language: ``?lang=`` if given, else the language cookie, else Dutch."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGS:
            return value  # type: ignore[return-value]
    return "nl"


def render(
    request: Request, template: str, status: int = 200, user: User | None = None, **context: Any
) -> HTMLResponse:
    """A page in the request's language, with the user and the form's CSRF token."""
    lang = language(request)
    token = request.cookies.get(SESSION_COOKIE)
    secret = state(request).secret
    response = templates(lang).TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "user": user,
            "csrf": csrf_token(token, secret) if token and user else None,
            "path": request.url.path,
            **context,
        },
        status_code=status,
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, samesite="lax", max_age=365 * 86400)
    return response


@contextmanager
def as_web_user(
    request: Request, *, before_password_change: bool = False
) -> Iterator[tuple[Session, User]]:
    """The request's transaction and the user of the session cookie (else to login).

    A user whose password was reset is sent to ``/password`` (see :func:`error_page`).
    """
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequiredError
    try:
        with as_user(request, token, before_password_change=before_password_change) as (
            session,
            user,
        ):
            yield session, user
    except UnauthorisedError:
        raise LoginRequiredError from None


def check_csrf(request: Request, given: str) -> None:
    """Refuse a form whose CSRF token is not the session's (403)."""
    token = request.cookies.get(SESSION_COOKIE) or ""
    if not token or not csrf_ok(given, token, state(request).secret):
        raise ForbiddenError(
            Message("the form has expired or did not come from this site: reload it")
        )


def error_page(request: Request, exc: ServiceError | LoginRequiredError) -> Response:
    """A core error as a page (a missing session goes to the login page)."""
    if isinstance(exc, LoginRequiredError | UnauthorisedError):
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    if isinstance(exc, PasswordChangeRequiredError):
        return RedirectResponse("/password", status_code=303)
    message = exc.translate(language(request))
    return render(request, "error.html.j2", exc.status, message=message)


# --------------------------------------------------------------------------- login


@router.get("/")
def home(request: Request) -> Response:
    """The page a role starts on."""
    with as_web_user(request) as (_, user):
        start = {"auditor": "/oversight", "admin": "/processes"}.get(user.role, "/queue")
    return RedirectResponse(start, status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    """The login form; it carries a one-off CSRF token that a cookie repeats."""
    nonce = secrets.token_urlsafe(24)
    response = render(request, "login.html.j2", next=_local(next), login_csrf=nonce)
    response.set_cookie(
        LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=_secure(request)
    )
    return response


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    csrf: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Log in (the same login as the API: rate-limited, logged); the token in a cookie."""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf, expected):
        raise ForbiddenError(Message("the login form has expired: reload the page and try again"))
    try:
        token = await log_in(request, username, password)
    except (UnauthorisedError, TooManyAttemptsError) as exc:
        _ = gettext(language(request))
        waiting = isinstance(exc, TooManyAttemptsError)
        nonce = secrets.token_urlsafe(24)
        page = render(
            request,
            "login.html.j2",
            exc.status,
            next=_local(next),
            login_csrf=nonce,
            error=_("Too many failed logins: try again in %(seconds)s s.")
            % {"seconds": exc.retry_after}
            if waiting
            else _("Wrong user name or password."),
            username=username,
        )
        if waiting:
            page.headers["Retry-After"] = str(exc.retry_after)
        page.set_cookie(
            LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=_secure(request)
        )
        return page
    response = start_session(request, RedirectResponse(_local(next), status_code=303), token)
    response.delete_cookie(LOGIN_COOKIE)
    return response


def start_session(request: Request, response: R, token: str) -> R:
    """Put ``token`` in the session cookie of ``response``."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        max_age=state(request).settings.token_minutes * 60,
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)]) -> Response:
    """End the web session: every token of the user ends, and the cookie is removed."""
    check_csrf(request, csrf)
    with (
        contextlib.suppress(LoginRequiredError),  # a session that has ended already
        as_web_user(request, before_password_change=True) as (session, user),
    ):
        accounts.log_out(session, user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _local(target: str) -> str:
    """Only same-site paths as a redirect target (no open redirects).

    Browsers read ``//host`` and ``/\\host`` as another site, so a backslash or a control
    character anywhere sends the user to ``/`` instead.
    """
    plain = target.isprintable() and "\\" not in target
    return target if plain and target.startswith("/") and not target.startswith("//") else "/"


def _secure(request: Request) -> bool:
    return state(request).settings.cookie_secure


# --------------------------------------------------------------------------- cases


@router.get("/queue")
def queue_page(
    request: Request, offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0
) -> Response:
    """Undecided cases of the user's team (without scores)."""
    with as_web_user(request) as (session, user):
        cases, total = casework.queue(session, user, 50, offset)
        return render(request, "queue.html.j2", user=user, cases=cases, total=total, offset=offset)


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: int) -> Response:
    """A case: its score, why, its uncertainty, and the decision (form or record)."""
    with as_web_user(request) as (session, user):
        return _case_page(request, session, user, case_id)


def _case_page(
    request: Request, session: Session, user: User, case_id: int, status: int = 200, **extra: Any
) -> HTMLResponse:
    _check_id(case_id)
    case, view = casework.open_case(session, user, case_id)
    inst = casework.instrument(case.process)
    lang = language(request)
    return render(
        request,
        "case.html.j2",
        status,
        user=user,
        case=case,
        view=view,
        spec=inst.spec,
        labels=inst.spec.bands[case.score["outcome"]].labels,
        explanation=explain(inst, case.inputs, lang=lang),
        inputs_by_name={p.name: p for p in [*inst.spec.predictors, *inst.spec.case_fields]},
        outcomes_by_name={o.name: o for o in inst.spec.outcomes},
        draw_text=_draw_text(case.draw, lang) if case.draw else None,
        checkable=casework.checked(case),
        today=datetime.now(UTC).date().isoformat(),
        **extra,
    )


def _draw_text(draw: ReferenceDraw, lang: Lang) -> dict[str, str]:
    """The draw's share (as a percentage) and value, written in ``lang``."""
    return {
        "share": notices.fmt_share(draw.share, lang),
        "value": fmt_number(draw.value, lang, 6),
    }


@router.post("/cases/{case_id}/outcome")
def record_outcome(
    request: Request,
    case_id: int,
    csrf: Annotated[str, Form(max_length=100)],
    found: Annotated[str, Form(max_length=10)] = "",
    observed_on: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """Record the outcome of the case's check; a refused one shows the case with the reason."""

    def save(session: Session, user: User) -> None:
        if found not in ("yes", "no"):
            raise InvalidError(Message("say whether the check found something"), field="outcome")
        data = OutcomeIn(outcome=found == "yes", observed_on=observed_on, note=note or None)  # type: ignore[arg-type]
        casework.record_outcome(session, user, case_id, data)

    return _case_form(request, case_id, csrf, save, "#check", error_key="check_error")


@router.post("/cases/{case_id}/decision")
def decide(
    request: Request,
    case_id: int,
    csrf: Annotated[str, Form(max_length=100)],
    outcome: Annotated[str, Form(max_length=50)] = "",
    rationale: Annotated[str, Form(max_length=20_000)] = "",
    follows: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Record the user's decision; a refused one shows the case again with the reason."""

    def save(session: Session, user: User) -> None:
        case = casework.readable_case(session, user, case_id, "decision.create")
        data = DecisionIn(
            outcome=outcome,  # type: ignore[arg-type]
            rationale=rationale,
            follows_score=_follows(case.suggests_selection, outcome, follows),
        )
        casework.decide(session, user, case_id, data)

    kept = {"outcome": outcome, "rationale": rationale}
    return _case_form(request, case_id, csrf, save, "", error_key="error", kept=kept)


def _case_form(
    request: Request,
    case_id: int,
    csrf: str,
    save: Callable[[Session, User], None],
    anchor: str,
    *,
    error_key: str,
    kept: dict[str, str] | None = None,
) -> Response:
    """Submit a form of the case page: one mechanism for the outcome and the decision.

    The CSRF token and the id are checked first; ``save`` records the form in the
    request's transaction as the logged-in user, then the browser goes back to the case
    (at ``anchor``). A refused form is rolled back and the case shown again (422) with
    the reason in the page's language as ``error_key`` and the ``kept`` entries filled in.
    """
    check_csrf(request, csrf)
    _check_id(case_id)
    try:
        with as_web_user(request) as (session, user):
            save(session, user)
    except (ValidationError, InvalidError) as exc:  # rolled back; show the case again
        with as_web_user(request) as (session, user):
            extra = {error_key: _message(request, exc), **(kept or {})}
            return _case_page(request, session, user, case_id, 422, **extra)
    return RedirectResponse(f"/cases/{case_id}{anchor}", status_code=303)


def _follows(suggests: bool | None, outcome: str, stated: str) -> bool:
    """Whether the outcome follows the band: derived when the band suggests one."""
    derived = casework.follows_band(suggests, outcome)
    if derived is not None:
        return derived
    if stated not in ("yes", "no"):
        raise InvalidError(
            Message("say whether the decision follows the score"), field="follows_score"
        )
    return stated == "yes"


def _message(request: Request, exc: ValidationError | InvalidError) -> str:
    """Why a form was refused, in the page's language."""
    lang = language(request)
    if isinstance(exc, InvalidError):
        return exc.translate(lang)
    return "; ".join(refusal(e).translate(lang) for e in exc.errors())


def _check_id(value: int) -> None:
    if not 1 <= value <= MAX_ID:
        raise InvalidError(Message("no such id: %(id)s", id=value))


@router.get("/cases/{case_id}/notice")
def notice_page(
    request: Request, case_id: int, lang: Lang = "nl", format: str = "html"
) -> Response:
    """The notice to the person concerned, as a page or a print-ready PDF."""
    if format not in ("html", "pdf"):
        raise InvalidError(Message("format is html or pdf"), field="format")
    with as_web_user(request) as (session, user):
        _check_id(case_id)
        case, notice = notices.read_notice(session, user, case_id, lang, format)
    return notices.as_response(case, notice, format)


# --------------------------------------------------------------------------- oversight


@router.get("/oversight")
def oversight_page(request: Request) -> Response:
    """Do people really decide? Override rates, time to decide, agreement per week."""
    threshold = state(request).settings.rubber_stamp_seconds
    with as_web_user(request) as (session, user):
        summary = oversight.summary(session, user, threshold)
        lang = language(request)
        chart = agreement_svg(summary.trend, gettext(lang)("Agreement with the score per week"))
        today = datetime.now(UTC).date()
        warnings = evidence.revalidation_warnings(session, summary.processes, today, lang)
        changes = access_changes(session) if user.role == "auditor" else None
        return render(
            request,
            "oversight.html.j2",
            user=user,
            o=summary,
            chart=chart,
            warnings=warnings,
            changes=changes,
        )


def access_changes(session: Session) -> dict[str, Any]:
    """Pending and recently decided access changes (four-eyes), for a page."""
    return {
        "pending": accounts.changes(session, pending=True),
        "recent": accounts.changes(session, pending=False),
    }


@router.get("/oversight/cube.parquet")
def oversight_cube(request: Request) -> Response:
    """Selections and decisions as a count cube without personal data (Parquet)."""
    with as_web_user(request) as (session, user):
        data = oversight.cube_parquet(oversight.decision_cube(session, user))
    headers = {"Content-Disposition": 'attachment; filename="decisions-cube.parquet"'}
    return Response(data, media_type="application/vnd.apache.parquet", headers=headers)


# --------------------------------------------------------------------------- processes


@router.get("/processes")
def processes_page(request: Request) -> Response:
    """Every registered process; the admin registers new ones here."""
    with as_web_user(request) as (session, user):
        return _processes_page(request, session, user)


def _processes_page(
    request: Request, session: Session, user: User, status: int = 200, **extra: Any
) -> HTMLResponse:
    processes = casework.list_processes(session)
    return render(request, "processes.html.j2", status, user=user, processes=processes, **extra)


@router.post("/processes")
def create_process(
    request: Request,
    csrf: Annotated[str, Form(max_length=100)],
    name: Annotated[str, Form(max_length=500)] = "",
    instrument: Annotated[str, Form(max_length=500)] = "",
    team: Annotated[str, Form(max_length=500)] = "",
    purpose: Annotated[str, Form(max_length=20_000)] = "",
    retention_days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Register a process (admin only), through the same rule as the API."""
    check_csrf(request, csrf)
    form = {"name": name, "instrument": instrument, "team": team, "purpose": purpose}
    try:
        with as_web_user(request) as (session, user):
            data = ProcessIn(**form, retention_days=retention_days)  # type: ignore[arg-type]
            casework.create_process(session, user, data)
    except (ValidationError, InvalidError) as exc:  # rolled back; show the form again
        form["retention_days"] = retention_days
        with as_web_user(request) as (session, user):
            error = _message(request, exc)
            return _processes_page(request, session, user, 422, error=error, form=form)
    return RedirectResponse("/processes", status_code=303)


@router.get("/processes/{process_id}/conditions")
def conditions_page(request: Request, process_id: int) -> Response:
    """The five conditions of a process, with their evidence and what is missing."""
    threshold = state(request).settings.rubber_stamp_seconds
    with as_web_user(request) as (session, user):
        _check_id(process_id)
        process = casework.get_process(session, process_id)
        evidence.check_evidence_access(user, process, Message("reading the conditions"))
        today = datetime.now(UTC).date()
        report = evidence.conditions(session, actor(user), process, today, threshold)
        return render(request, "conditions.html.j2", user=user, process=process, report=report)


@router.get("/processes/{name}/selectivity")
def selectivity_page(
    request: Request,
    name: Annotated[str, FastAPIPath(min_length=1, max_length=200)],
    group: Annotated[list[str] | None, Query(max_length=10)] = None,
) -> Response:
    """The selectivity report of a process (auditors and admins), in the site's layout."""
    from waarborg.selectivity import render_html

    with as_web_user(request) as (session, user):
        result = selectivity.process_selectivity(session, user, name, group)
        process = casework.find_process(session, name)
        lang = language(request)
        return render(
            request,
            "selectivity.html.j2",
            user=user,
            process=process,
            groups=result["groups"],
            share=notices.fmt_share(process.reference_share, lang),
            report=report_body(render_html(result, lang)),
        )


def report_body(page: str) -> Markup:
    """The content of a self-contained report page's ``<body>``, to show inside the site.

    The report escapes everything that came from data itself (it is waarborg's own
    output, not user data); its inline style sheet stays out (the site's policy allows
    no inline styles), so the site's own styles apply, and its ``<main>`` becomes a
    ``<div>`` (the site's page has its own). Its figures, inline SVG with their own
    styles, become images (``data:`` URLs, which the policy allows), their title the
    alternative text.
    """
    start = page.index(">", page.index("<body")) + 1
    body = page[start : page.rindex("</body>")]
    body = body.replace("<main>", '<div class="report">').replace("</main>", "</div>")
    return Markup(re.sub(r"<svg\b.*?</svg>", _svg_image, body, flags=re.S))


def _svg_image(figure: re.Match[str]) -> str:
    """An inline SVG figure as an ``<img>`` with a ``data:`` URL and its title as alt."""
    svg = figure.group(0)
    title = re.search(r"<title[^>]*>(.*?)</title>", svg, flags=re.S)
    alt = html.escape(html.unescape(title.group(1)) if title else "", quote=True)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="figure" src="data:image/svg+xml;base64,{data}" alt="{alt}">'


# --------------------------------------------------------------------------- audit log


@router.get("/auditlog")
def auditlog_page(request: Request, after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> Response:
    """The audit log (auditors): its entries and whether the chain is intact.

    The chain is verified after the request's transaction, on a snapshot and only from
    the last signed checkpoint on (:func:`auditlog.verify_recent`): a view costs the new
    entries, and holds no lock while it verifies.
    """
    with as_web_user(request) as (session, user):
        casework.require_role(user, ["auditor"], Message("reading the audit log"))
        entries, _ = auditlog.read_entries(session, actor(user), after, 100)
    check = auditlog.verify_recent(state(request).db)
    return render(request, "auditlog.html.j2", user=user, entries=entries, check=check, after=after)
