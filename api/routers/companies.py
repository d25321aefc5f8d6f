"""Company metrics by month (`core.metrics_company_period`), within the caller's tenancy."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from api.auth import CallerDep
from api.deps import ConnectionDep
from api.problems import AUTHENTICATED_PROBLEMS, problem_responses

router = APIRouter(prefix="/v1/companies", tags=["companies"])

MONTH_REGEX = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
CompanyId = Annotated[
    str, Path(min_length=1, max_length=100, description="The company's code (roster).", examples=["ACM"])
]


class CompanyMonth(BaseModel):
    """One company month of core.metrics_company_period (docs/metrics.md explains every figure)."""

    period_start: date
    period_end: date
    participants_reached: int
    active_volunteers: int
    sessions_completed: int
    volunteer_hours: float
    buddy_matches: int
    buddy_events: int
    buddy_checkins: int
    courses_completed: int
    credentials_issued: int
    avg_confidence: float | None = None
    avg_belonging: float | None = None
    avg_lang_level_proxy: float | None = None
    avg_job_readiness: float | None = None
    avg_well_being: float | None = None
    improved_confidence: int
    improved_belonging: int
    improved_lang_level_proxy: int
    improved_job_readiness: int
    improved_well_being: int
    hour_value_year: int | None = None
    hour_value_usd: float | None = None
    programme_cost_usd: float | None = None
    inputs_value_usd: float | None = None
    outcomes_value_usd: float | None = None
    outcomes_value_low_usd: float | None = None
    outcomes_value_high_usd: float | None = None
    sroi_ratio: float | None = Field(default=None, description="null when the inputs are worth 0")
    sroi_low: float | None = None
    sroi_high: float | None = None
    vis_score: float | None = Field(default=None, description="Volunteer Impact Score, 0–100")
    vis_band: str | None = None
    methodology_version: str


MONTH_FIELDS = tuple(CompanyMonth.model_fields)

MONTH_EXAMPLE: dict[str, Any] = {
    "period_start": "2026-03-01",
    "period_end": "2026-03-31",
    "participants_reached": 12,
    "active_volunteers": 5,
    "sessions_completed": 30,
    "volunteer_hours": 31.5,
    "buddy_matches": 2,
    "buddy_events": 4,
    "buddy_checkins": 6,
    "courses_completed": 1,
    "credentials_issued": 1,
    "avg_confidence": 0.61,
    "avg_belonging": None,
    "avg_lang_level_proxy": 0.55,
    "avg_job_readiness": None,
    "avg_well_being": None,
    "improved_confidence": 0,
    "improved_belonging": 1,
    "improved_lang_level_proxy": 2,
    "improved_job_readiness": 1,
    "improved_well_being": 0,
    "hour_value_year": 2024,
    "hour_value_usd": 34.79,
    "programme_cost_usd": 0,
    "inputs_value_usd": 1095.89,
    "outcomes_value_usd": 4100.0,
    "outcomes_value_low_usd": 2100.0,
    "outcomes_value_high_usd": 6900.0,
    "sroi_ratio": 3.74,
    "sroi_low": 1.92,
    "sroi_high": 6.3,
    "vis_score": 58.2,
    "vis_band": "Contributing",
    "methodology_version": "1.0.0",
}


class CompanyMetrics(BaseModel):
    company_id: str
    company_name: str | None
    months: list[CompanyMonth] = Field(description="Months with activity, oldest first.")

    model_config = {
        "json_schema_extra": {"examples": [{"company_id": "ACM", "company_name": "Acme AS", "months": [MONTH_EXAMPLE]}]}
    }


def first_of_month(value: str | None) -> date | None:
    if value is None:
        return None
    assert re.match(MONTH_REGEX, value)
    year, month = value.split("-")
    return date(int(year), int(month), 1)


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
    from_month: Annotated[
        str | None,
        Query(alias="from", pattern=MONTH_REGEX, description="First month, YYYY-MM (inclusive).", examples=["2026-01"]),
    ] = None,
    to_month: Annotated[
        str | None,
        Query(alias="to", pattern=MONTH_REGEX, description="Last month, YYYY-MM (inclusive).", examples=["2026-12"]),
    ] = None,
) -> CompanyMetrics:
    # `from` after `to` is an empty range, not an error (every month in it is there: none).
    start, end = first_of_month(from_month), first_of_month(to_month)
    # Only admins and the company's own users; a participant has no company metrics. Outside: 404.
    if not (caller.is_admin or (caller.role == "company_user" and caller.company_id == company_id)):
        raise HTTPException(status_code=404, detail=f"no company {company_id}")
    company = db.execute(
        sa.text("SELECT company_id, company_name FROM core.companies WHERE company_id = :c"), {"c": company_id}
    ).first()
    if company is None:
        raise HTTPException(status_code=404, detail=f"no company {company_id}")
    months = db.execute(
        sa.text(
            f"""
            SELECT {", ".join(MONTH_FIELDS)}
              FROM core.metrics_company_period
             WHERE company_id = :c
               AND (CAST(:start AS date) IS NULL OR period_start >= :start)
               AND (CAST(:end AS date) IS NULL OR period_start <= :end)
             ORDER BY period_start
            """
        ),
        {"c": company_id, "start": start, "end": end},
    ).mappings()
    return CompanyMetrics(
        company_id=company.company_id,
        company_name=company.company_name,
        months=[CompanyMonth.model_validate(dict(month)) for month in months],
    )


# Seam: `GET /v1/companies/{company_id}/report` (the impact report) comes with the report feature.
