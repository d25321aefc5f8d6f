"""Liveness and readiness."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import EngineDep, SettingsDep
from teei.events.nats_client import check_nats

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Check(BaseModel):
    healthy: bool
    detail: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, Check]


@router.get("/health", response_model=Health, summary="Liveness: the process answers")
def health() -> Health:
    return Health(status="ok")


def _postgres(engine: sa.Engine) -> Check:
    try:
        with engine.connect() as db:
            db.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        return Check(healthy=False, detail=f"PostgreSQL unreachable: {str(exc).splitlines()[0]}")
    return Check(healthy=True, detail="PostgreSQL answers")


def _dagster_storage(engine: sa.Engine) -> Check:
    # dagster-postgres keeps its run storage in the same database (tables created on first use).
    # Looked up in the catalogue, not counted: the API's role may not read Dagster's tables.
    try:
        with engine.connect() as db:
            found: bool = db.execute(sa.text("SELECT to_regclass('public.runs') IS NOT NULL")).scalar_one()
    except sa.exc.SQLAlchemyError as exc:
        return Check(healthy=False, detail=f"PostgreSQL unreachable: {str(exc).splitlines()[0]}")
    if not found:
        return Check(healthy=False, detail="Dagster run storage not found (start Dagster once: `make up`)")
    return Check(healthy=True, detail="Dagster run storage found")


@router.get(
    "/health/ready",
    response_model=Readiness,
    summary="Readiness: PostgreSQL, NATS and the Dagster storage answer",
    responses={503: {"model": Readiness, "description": "a dependency is down; `checks` names it"}},
)
async def ready(engine: EngineDep, settings: SettingsDep) -> JSONResponse:
    postgres, dagster_storage = await asyncio.gather(
        asyncio.to_thread(_postgres, engine), asyncio.to_thread(_dagster_storage, engine)
    )
    nats_ok, nats_detail = await check_nats(settings.nats_server_url)
    checks = {
        "postgres": postgres,
        "nats": Check(healthy=nats_ok, detail=nats_detail),
        "dagster_storage": dagster_storage,
    }
    healthy = all(check.healthy for check in checks.values())
    body = Readiness(status="ready" if healthy else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)
