"""The body of the company metrics operation: a company's months of `core.metrics_company_period`."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field


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
    """A company and its months with activity."""

    company_id: str
    company_name: str | None
    months: list[CompanyMonth] = Field(description="Months with activity, oldest first.")

    model_config = {
        "json_schema_extra": {"examples": [{"company_id": "ACM", "company_name": "Acme AS", "months": [MONTH_EXAMPLE]}]}
    }
