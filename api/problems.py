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

from api.correlation import CORRELATION_HEADER, current_correlation_id
from api.routing import allowed_methods
from teei.ingest.webhook_delivery import (
    BodyInvalid,
    BodyMalformed,
    DeliveryError,
    DeliveryFailed,
    DeliveryNotLoaded,
    DeliveryRejected,
)

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
    """An RFC 9457 problem+json answer to `request` (instance: its path)."""
    return JSONResponse(
        problem.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


# The domain's errors as HTTP statuses: the rooms below raise them, knowing nothing of HTTP.
# A sender's mistake is a 4xx (a retry of the same request fails again); only our faults are 5xx.
DOMAIN_ERROR_STATUS: dict[type[DeliveryError], int] = {
    BodyMalformed: 400,
    BodyInvalid: 422,
    DeliveryRejected: 422,
    DeliveryFailed: 500,
    DeliveryNotLoaded: 503,
}


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
    """Answer every error of `app` as problem+json: HTTP errors, validation, domain errors, the rest."""

    async def http_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        if exc.status_code == 405:
            # Starlette names only the first route whose path matched; the path may have more.
            methods = allowed_methods(request.scope)
            headers["Allow"] = ", ".join(methods)
            detail = f"{request.method} is not allowed on {request.url.path}; allowed: {', '.join(methods)}"
        return problem_response(request, exc.status_code, detail, headers=headers)

    async def validation_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        found = [
            {"location": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
            for error in exc.errors()
        ]
        return problem_response(request, 422, "the request is not valid", errors=found)

    async def domain_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DeliveryError)
        headers = None
        if isinstance(exc, DeliveryNotLoaded):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
        return problem_response(request, DOMAIN_ERROR_STATUS.get(type(exc), 422), exc.reason, headers=headers)

    async def schema_missing_problem(request: Request, exc: Exception) -> JSONResponse:
        # Before the first pipeline run dbt has not built the shared schema yet: say so, not "500".
        if isinstance(exc, ProgrammingError) and isinstance(exc.orig, psycopg.errors.UndefinedTable):
            return problem_response(
                request, 503, "the shared schema is not built yet: run the pipeline (`teei run` or `make up`)"
            )
        log_unexpected(request, exc)
        return problem_response(request, 500, UNEXPECTED)

    async def unexpected_problem(request: Request, exc: Exception) -> JSONResponse:
        log_unexpected(request, exc)
        # Answered outside the correlation middleware (Starlette's outermost error handler), which
        # therefore cannot add the header: set it here.
        cid = current_correlation_id()
        return problem_response(request, 500, UNEXPECTED, headers={CORRELATION_HEADER: cid} if cid else None)

    app.add_exception_handler(StarletteHTTPException, http_problem)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_exception_handler(DeliveryError, domain_problem)
    app.add_exception_handler(ProgrammingError, schema_missing_problem)
    app.add_exception_handler(Exception, unexpected_problem)


UNEXPECTED = "an unexpected error occurred; it has been logged"


def log_unexpected(request: Request, exc: Exception) -> None:
    # The record factory gives it the request's correlation id (still set: same task).
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
