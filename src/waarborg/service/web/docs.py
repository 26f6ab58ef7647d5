"""The API documentation page (``/docs``): Swagger UI served from this site.

FastAPI's own ``/docs`` loads Swagger UI from a CDN and starts it with an inline script.
Here the page loads the vendored files of the npm package ``swagger-ui-dist``
(``static/vendor/swagger-ui-dist``, with its licence) and a start script of its own
(``static/docs.js``), so its Content-Security-Policy (:data:`.headers.DOCS_POLICY`) can
allow scripts from this site only and no other host at all.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from waarborg.service.web.headers import DOCS_PATH

VENDOR = "/static/vendor/swagger-ui-dist"
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>waarborg – API</title>
<link rel="stylesheet" href="{VENDOR}/swagger-ui.css">
</head>
<body>
<main id="swagger-ui"></main>
<script src="{VENDOR}/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


@router.get(DOCS_PATH)
def api_docs() -> HTMLResponse:
    """Swagger UI for ``/openapi.json``, from this site's own files."""
    return HTMLResponse(PAGE)
