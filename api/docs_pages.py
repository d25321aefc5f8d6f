"""`/docs` (Swagger UI) and `/redoc` served entirely by the app, so they work offline.

FastAPI's own pages load their JavaScript and CSS from a CDN, which is a blank page without the
internet. The assets come from the `fastapi-offline` package (current Swagger UI 5 and ReDoc 2
builds, which render OpenAPI 3.1), found through the package and served under `/docs/static/`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
STATIC_URL = "/docs/static"
# (package, folder inside it) of the assets.
ASSETS = ("fastapi_offline", "static")


def install_docs_pages(app: FastAPI) -> None:
    """Serve the docs pages and their assets from `app` (create it with `docs_url=None, redoc_url=None`)."""
    app.mount(STATIC_URL, StaticFiles(packages=[ASSETS]), name="docs-static")

    def asset(request: Request, name: str) -> str:
        # root_path: behind a proxy that serves the app under a prefix, the URLs keep it.
        return f"{request.scope.get('root_path', '')}{STATIC_URL}/{name}"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{request.scope.get('root_path', '')}{app.openapi_url}",
            title=f"{app.title} – Swagger UI",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            swagger_js_url=asset(request, "swagger-ui-bundle.js"),
            swagger_css_url=asset(request, "swagger-ui.css"),
            swagger_favicon_url=asset(request, "favicon.png"),
            # No badge from the online spec validator: the page makes no request off the app.
            swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=f"{request.scope.get('root_path', '')}{app.openapi_url}",
            title=f"{app.title} – ReDoc",
            redoc_js_url=asset(request, "redoc.standalone.js"),
            redoc_favicon_url=asset(request, "favicon.png"),
            with_google_fonts=False,
        )
