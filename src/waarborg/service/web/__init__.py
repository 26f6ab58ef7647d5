"""The web pages of the service: server-rendered HTML for case workers, supervisors,
auditors and administrators, in Dutch and English.

The pages call the same functions as the JSON API (:mod:`~waarborg.service.casework`,
:mod:`~waarborg.service.oversight`, :mod:`~waarborg.service.notices`,
:mod:`~waarborg.service.auditlog`, :mod:`~waarborg.service.accounts`), so purpose
binding, logging and every rule hold here exactly as there. A web session is the API's
signed token in an HttpOnly cookie; every form carries a CSRF token derived from it. The
look is the NL Design System's (vendored CSS in ``static/vendor``).
"""

from fastapi import APIRouter

from waarborg.service.web import accounts, docs, pages
from waarborg.service.web.pages import STATIC

router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(accounts.router)

__all__ = ["STATIC", "docs", "router"]
