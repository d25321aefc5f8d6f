"""`X-Correlation-ID`: accepted from the caller (or generated), returned on every response, present on
every log record written while the request runs, and handed on to the events the request causes.

The middleware is `asgi_correlation_id`'s (plain ASGI, so no task per request); this module says what
an acceptable id looks like, how a new one is made, and puts the id on every log record.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
from fastapi import FastAPI

CORRELATION_HEADER = "X-Correlation-ID"
# What a caller's id may look like: short and printable, so it is safe in logs and event headers.
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


def is_acceptable_correlation_id(value: str) -> bool:
    """A caller's id is kept when it is short and printable; anything else is replaced by a new one."""
    return bool(_ACCEPTED.match(value))


def new_correlation_id() -> str:
    """A new id for a request that brought none (or an unacceptable one): a UUID in its usual form."""
    return str(uuid.uuid4())


def current_correlation_id() -> str | None:
    """The correlation id of the request being served (None outside a request)."""
    return correlation_id.get()


def install_correlation_ids(app: FastAPI) -> None:
    """Accept, generate and return `X-Correlation-ID` on every request of `app`."""
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=CORRELATION_HEADER,
        generator=new_correlation_id,
        validator=is_acceptable_correlation_id,
    )


_factory_installed = False


def install_log_record_correlation() -> None:
    """Every log record gets a `correlation_id` attribute (the request's, or "-"), whichever logger
    and handler it goes through, so any formatter can print `%(correlation_id)s`.

    A record factory rather than the package's `CorrelationIdFilter`: a filter acts only on the
    handlers it is attached to, and the server's (and the tests') handlers are made elsewhere."""
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
