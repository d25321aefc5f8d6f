"""Company metrics by month (`core.metrics_company_period`), within the caller's tenancy (api.tenancy).
The SQL is in api.queries.metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.exceptions import RequestValidationError

from api.auth import CallerDep
from api.deps import ConnectionDep
from api.models.companies import CompanyMetrics
from api.problems import AUTHENTICATED_PROBLEMS, problem_responses
from api.queries import metrics as queries
from api.tenancy import outside_tenancy, require_company_metrics

router = APIRouter(prefix="/v1/companies", tags=["companies"])

# YYYY-MM with a year of 0001–9999 (a `date` has no year 0) and a month of 01–12; in the OpenAPI
# document too, so clients and generated tests know it.
MONTH_REGEX = r"^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])$"
CompanyId = Annotated[
    str, Path(min_length=1, max_length=100, description="The company's code (roster).", examples=["ACM"])
]


@dataclass(frozen=True)
class MonthRange:
    """First days of the first and last month asked for (None: unbounded)."""

    start: date | None
    end: date | None


def first_of_month(value: str | None) -> date | None:
    """`YYYY-MM` (already matched against MONTH_REGEX) as the first day of that month."""
    if value is None:
        return None
    year, month = value.split("-")
    return date(int(year), int(month), 1)


def month_range(
    from_month: Annotated[
        str | None,
        Query(alias="from", pattern=MONTH_REGEX, description="First month, YYYY-MM (inclusive).", examples=["2026-01"]),
    ] = None,
    to_month: Annotated[
        str | None,
        Query(
            alias="to",
            pattern=MONTH_REGEX,
            description="Last month, YYYY-MM (inclusive); not before `from`.",
            examples=["2026-12"],
        ),
    ] = None,
) -> MonthRange:
    """The `from`/`to` query parameters, checked together (each alone is checked by its pattern)."""
    months = MonthRange(first_of_month(from_month), first_of_month(to_month))
    if months.start and months.end and months.start > months.end:
        raise RequestValidationError(
            [{"loc": ("query", "from"), "msg": f"from ({from_month}) is after to ({to_month})", "type": "value_error"}]
        )
    return months


@router.get(
    "/{company_id}/metrics",
    response_model=CompanyMetrics,
    responses=problem_responses(*AUTHENTICATED_PROBLEMS),
    summary="A company's metrics per calendar month (reach, hours, outcomes, SROI, VIS)",
)
def company_metrics(
    company_id: CompanyId,
    caller: CallerDep,
    db: ConnectionDep,
    months: Annotated[MonthRange, Depends(month_range)],
) -> CompanyMetrics:
    require_company_metrics(caller, company_id)
    company = queries.company(db, company_id)
    if company is None:
        raise outside_tenancy(f"no company {company_id}")
    return CompanyMetrics(
        company_id=company.company_id,
        company_name=company.company_name,
        months=queries.company_months(db, company_id, months.start, months.end),
    )


# Seam: `GET /v1/companies/{company_id}/report` (the impact report) comes with the report feature.
