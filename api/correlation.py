"""`X-Correlation-ID`: accepted from the caller (or generated), returned on every response, present on
every log record written while the request runs, and handed on to the events the request causes."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CORRELATION_HEADER = "X-Correlation-ID"
# What a caller's id may look like: short and printable, so it is safe in logs and event headers.
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
"""The correlation id of the request being served (None outside a request)."""


def accepted_correlation_id(value: str | None) -> str:
    """The caller's id when it is a sensible one, else a new one (a UUID)."""
    if value and _ACCEPTED.match(value):
        return value
    return str(uuid.uuid4())


class CorrelationIdMiddleware:
    """Plain ASGI (not BaseHTTPMiddleware, which costs a task per request): sets the context variable
    and adds the header to the response start, including error responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope["headers"]:
            if name == b"x-correlation-id":
                given = value.decode("latin-1")
                break
        cid = accepted_correlation_id(given)
        scope.setdefault("state", {})["correlation_id"] = cid

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[CORRELATION_HEADER] = cid
            await send(message)

        token = correlation_id.set(cid)
        try:
            await self.app(scope, receive, send_with_header)
        finally:
            correlation_id.reset(token)


_factory_installed = False


def install_log_record_correlation() -> None:
    """Every log record gets a `correlation_id` attribute (the request's, or "-"), whichever logger
    and handler it goes through, so any formatter can print `%(correlation_id)s`."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.correlation_id = correlation_id.get() or "-"
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"


def add_correlation_to_log_format(
    logger_names: tuple[str, ...] = ("", "uvicorn", "uvicorn.error", "uvicorn.access"),
) -> None:
    """Put the correlation id into the lines the server's handlers write (uvicorn configures its own
    handlers and formats; each gets ` [correlation_id]` added once)."""
    for name in logger_names:
        for handler in logging.getLogger(name).handlers:
            formatter = handler.formatter
            fmt = getattr(formatter, "_fmt", None) or "%(levelname)s %(name)s: %(message)s"
            if "correlation_id" in fmt:
                continue
            fmt = fmt.replace("%(message)s", "[%(correlation_id)s] %(message)s", 1)
            if "correlation_id" not in fmt:
                fmt += " [%(correlation_id)s]"
            new_formatter = type(formatter)(fmt) if formatter is not None else logging.Formatter(fmt)
            if formatter is not None and hasattr(formatter, "use_colors"):
                new_formatter.use_colors = formatter.use_colors  # type: ignore[attr-defined]
            if formatter is not None:
                new_formatter.datefmt = formatter.datefmt
            handler.setFormatter(new_formatter)
