"""Helpers shared by the API test modules (imported by them; not a conftest): settings pointing at a
test database, tokens for each role, a built data set with two companies, and problem+json checks."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from api.auth import Role, mint_token
from teei.devtools.generate import generate_exports
from teei.platform.settings import Settings

KEY = "test-key"
JWT_SECRET = "test-jwt-secret-of-the-api-tests-32-bytes-or-more"
WEBHOOK_SECRET = "test-webhook-secret"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def api_settings(database_url: str, nats_url: str, home: Path, **overrides: Any) -> Settings:
    """Settings of an API under test (no `.env` read): its database, NATS and landing folder."""
    values: dict[str, Any] = {
        "home": home,
        "database_url": database_url,
        "nats_url": nats_url,
        "landing_dir": home / "landing",
        "pseudonym_key": KEY,
        "jwt_secret": JWT_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
        "api_rate_limit": "100000/minute",
    }
    return Settings(_env_file=None, **(values | overrides))


def token(settings: Settings, role: Role, *, company_id: str | None = None, user_id: str | None = None) -> str:
    return mint_token(settings, role=role, company_id=company_id, user_id=user_id, sub=f"test-{role}")


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.headers
    assert response.headers.get("x-correlation-id")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


@dataclass
class Tenants:
    """Two companies, each with a participant linked to it alone, and a volunteer on its roster."""

    company: str
    other_company: str
    participant: str
    other_participant: str
    volunteer: str
    other_volunteer: str


def build_dataset(url: str, load_exports: Any, dbt: Any, folder: Path, *, scale: int = 40, seed: int = 11) -> None:
    """A generated export set through the real loader, one external id link and a few outcome
    scores (Q2Q's table), then one dbt build."""
    manifest = generate_exports(folder, scale=scale, seed=seed, messy=True)  # messy: some exports carry names
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.NullPool)
    try:
        load_exports(engine, folder, manifest, pseudonym_key=KEY)
        with engine.begin() as db:
            someone: str = db.execute(
                sa.text("SELECT participant_user_id FROM raw.kintell_sessions ORDER BY 1 LIMIT 1")
            ).scalar_one()
            db.execute(
                sa.text(
                    "INSERT INTO ops.external_id_links (user_id, system, external_id, linked_by) "
                    "VALUES (:u, 'discord', 'seeded#0001', 'tests')"
                ),
                {"u": someone},
            )
            db.execute(
                sa.text(
                    """
                    INSERT INTO core.outcome_scores
                        (text_id, source_table, source_id, user_id, dimension, score, confidence, provider, model_id,
                         model_version, taxonomy_version, text_sha256)
                    SELECT 'kintell_sessions:' || session_id, 'kintell_sessions', session_id, participant_user_id,
                           'confidence', 0.7, 0.9, 'lexicon', 'lexicon', '1', '1',
                           encode(sha256(convert_to(feedback_text, 'UTF8')), 'hex')
                      FROM raw.kintell_sessions WHERE feedback_text IS NOT NULL LIMIT 20
                    """
                )
            )
    finally:
        engine.dispose()
    dbt(url, "build")


def pick_tenants(engine: sa.Engine) -> Tenants:
    """Two companies with a participant each who belongs to that company only."""
    with engine.connect() as db:
        rows = db.execute(
            sa.text(
                """
                WITH only_one AS (
                    SELECT user_id, min(company_id) AS company_id FROM core.company_users
                     WHERE role = 'participant' GROUP BY user_id HAVING count(DISTINCT company_id) = 1
                ), volunteers AS (
                    SELECT company_id, min(user_id) AS volunteer FROM core.company_users
                     WHERE role = 'volunteer' GROUP BY company_id
                )
                SELECT o.company_id, min(o.user_id) AS participant, v.volunteer
                  FROM only_one o JOIN volunteers v USING (company_id)
                  JOIN core.participant_journey j ON j.user_id = o.user_id
                 GROUP BY o.company_id, v.volunteer
                 ORDER BY o.company_id
                 LIMIT 2
                """
            )
        ).all()
    assert len(rows) == 2, f"the data set needs two companies with their own participants: {rows}"
    (company, participant, volunteer), (other, other_participant, other_volunteer) = (tuple(map(str, r)) for r in rows)
    return Tenants(company, other, participant, other_participant, volunteer, other_volunteer)


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)
