"""The SQL of the company metrics operation (`core.metrics_company_period`)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from api.models.companies import CompanyMonth

MONTH_FIELDS = tuple(CompanyMonth.model_fields)

MONTHS_QUERY = sa.text(
    f"""
    SELECT {", ".join(MONTH_FIELDS)}
      FROM core.metrics_company_period
     WHERE company_id = :c
       AND (CAST(:start AS date) IS NULL OR period_start >= :start)
       AND (CAST(:end AS date) IS NULL OR period_start <= :end)
     ORDER BY period_start
    """
)


def company(db: sa.Connection, company_id: str) -> sa.Row[Any] | None:
    """The company's id and name (`core.companies`), or None when there is no such company."""
    return db.execute(
        sa.text("SELECT company_id, company_name FROM core.companies WHERE company_id = :c"), {"c": company_id}
    ).first()


def company_months(db: sa.Connection, company_id: str, start: date | None, end: date | None) -> list[CompanyMonth]:
    """The company's months from `start` to `end` (first days of months, inclusive; None: unbounded), oldest first."""
    rows = db.execute(MONTHS_QUERY, {"c": company_id, "start": start, "end": end}).mappings()
    return [CompanyMonth.model_validate(dict(row)) for row in rows]
