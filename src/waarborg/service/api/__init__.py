"""The JSON API under ``/api``, documented in OpenAPI (``/openapi.json``, ``/docs``)."""

from fastapi import APIRouter

from waarborg.service.api import accounts, auditlog, cases, conditions, oversight, processes

router = APIRouter(prefix="/api")
for module in (accounts, processes, cases, oversight, conditions, auditlog):
    router.include_router(module.router)

__all__ = ["router"]
