"""RFC 9457 problem+json for every error the API answers, including validation and unknown routes."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import ProgrammingError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


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
    return JSONResponse(
        problem.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": HTTPStatus(status).phrase}
    for status in (404, 422, 503)
}


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
        return problem_response(request, 500, "an unexpected error occurred; it has been logged")

    app.add_exception_handler(StarletteHTTPException, http_problem)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_exception_handler(ProgrammingError, schema_missing_problem)
    app.add_exception_handler(Exception, unexpected_problem)
