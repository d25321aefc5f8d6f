"""RFC 9457 problem+json for every error the API answers, including validation and unknown routes."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import ProgrammingError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.correlation import CORRELATION_HEADER, correlation_id

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem_response(
    request: Request,
    status: int,
    detail: str | None = None,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        title=HTTPStatus(status).phrase, status=status, detail=detail, instance=request.url.path, errors=errors
    )
    headers = dict(headers or {})
    # Also set here, not only by the middleware: a 500 is answered outside it.
    cid = getattr(request.state, "correlation_id", None)
    if cid:
        headers[CORRELATION_HEADER] = cid
    return JSONResponse(
        problem.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


PROBLEM_EXAMPLE = {
    "type": "about:blank",
    "title": "Not Found",
    "status": 404,
    "detail": "no profile for user 3f0c…",
    "instance": "/v1/profiles/3f0c…",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` documenting these statuses as problem+json (and only as that)."""
    return {
        status: {
            "model": Problem,
            "content": {
                PROBLEM_JSON: {"example": PROBLEM_EXAMPLE | {"title": HTTPStatus(status).phrase, "status": status}}
            },
            "description": HTTPStatus(status).phrase,
        }
        for status in statuses
    }


# What every authenticated /v1 operation may answer besides its own outcomes.
AUTHENTICATED_PROBLEMS = (401, 404, 422, 429, 503)
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = problem_responses(404, 422, 503)


def install_problem_handlers(app: FastAPI) -> None:
    async def http_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        return problem_response(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    async def validation_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        found = [
            {"location": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
            for error in exc.errors()
        ]
        return problem_response(request, 422, "the request is not valid", errors=found)

    async def schema_missing_problem(request: Request, exc: Exception) -> JSONResponse:
        # Before the first pipeline run dbt has not built the shared schema yet: say so, not "500".
        if isinstance(exc, ProgrammingError) and isinstance(exc.orig, psycopg.errors.UndefinedTable):
            return problem_response(
                request, 503, "the shared schema is not built yet: run the pipeline (`teei run` or `make up`)"
            )
        return await unexpected_problem(request, exc)

    async def unexpected_problem(request: Request, exc: Exception) -> JSONResponse:
        # Answered outside the correlation middleware: log under the request's id all the same.
        token = correlation_id.set(getattr(request.state, "correlation_id", None))
        try:
            log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        finally:
            correlation_id.reset(token)
        return problem_response(request, 500, "an unexpected error occurred; it has been logged")

    app.add_exception_handler(StarletteHTTPException, http_problem)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_exception_handler(ProgrammingError, schema_missing_problem)
    app.add_exception_handler(Exception, unexpected_problem)
