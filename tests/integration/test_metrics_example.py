"""The worked example of docs/metrics.md, rebuilt from its fixture exports through the real loader and
dbt: every figure the docs give by hand is the figure core.metrics_company_period (and the VIS and
SROI models behind it) hold, and building again changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from connectors.registry import ENTITIES, entity_for_file
from teei.ingest.identity import user_id_for_email
from teei.ingest.loader import load_csv_file

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "metrics_example"
DOCS = ROOT / "docs" / "metrics.md"
KEY = "test-key"
COMPANY, MONTH = "ACM", date(2026, 3, 1)


def docs_table(heading: str) -> list[dict[str, str]]:
    """The markdown table under `heading` in docs/metrics.md, as one dict per row (cells trimmed)."""
    lines = DOCS.read_text(encoding="utf-8").splitlines()
    start = lines.index(heading)
    table = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            table.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    header, _rule, *body = table
    assert body, f"no table under {heading!r}"
    return [dict(zip(header, row, strict=True)) for row in body]


def same(documented: str, built: Any) -> bool:
    """Whether a figure as the docs write it is the value dbt built: numbers by value, dates by ISO
    date, an empty cell as null, anything else as text."""
    if documented == "":
        return built is None
    if built is None:
        return False
    if isinstance(built, date):
        return built.isoformat() == documented
    if isinstance(built, bool):
        return str(built).lower() == documented.lower()
    try:
        return Decimal(documented) == Decimal(str(built))
    except InvalidOperation:
        return str(built) == documented


def rows(engine: sa.Engine, query: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as db:
        return [dict(row) for row in db.execute(sa.text(query), params).mappings()]


def load_fixture(engine: sa.Engine) -> None:
    """Every export of the fixture through the loader, in the order `teei run` loads entities."""
    order = list(ENTITIES.values())
    files = []
    for path in FIXTURE.rglob("*.csv"):
        spec = entity_for_file(path.relative_to(FIXTURE))
        assert spec is not None, path
        files.append((order.index(spec), path.name, path, spec))
    for _, _, path, spec in sorted(files, key=lambda item: (item[0], item[1])):
        relative = str(path.relative_to(FIXTURE))
        result = load_csv_file(
            engine, path, spec, timezone=ZoneInfo("Europe/Oslo"), pseudonym_key=KEY, file_name=relative
        )
        assert (result.error, result.rows_quarantined) == (None, 0), f"{relative}: {result}"


def metrics_state(engine: sa.Engine) -> list[list[dict[str, Any]]]:
    return [
        rows(engine, "SELECT * FROM core.metrics_company_period ORDER BY company_id, period_start"),
        rows(engine, "SELECT * FROM staging.int_volunteer_month_vis ORDER BY volunteer_user_id, period_start"),
        rows(engine, "SELECT * FROM core.metrics_sroi_outcome_values ORDER BY scenario, dimension"),
    ]


def without_write_times(state: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    return [[{k: v for k, v in row.items() if k != "dbt_updated_at"} for row in table] for table in state]


def test_the_worked_example_of_the_docs_is_what_dbt_builds(database_url: str, engine: sa.Engine, dbt: Any) -> None:
    load_fixture(engine)

    dbt(database_url, "build")

    # the company month, figure by figure
    [month] = rows(
        engine,
        "SELECT * FROM core.metrics_company_period WHERE company_id = :c AND period_start = :m",
        c=COMPANY,
        m=MONTH,
    )
    figures = docs_table("### Worked example: the figures")
    assert {f["figure"] for f in figures} == set(month) - {"company_period_id"}
    wrong = {f["figure"]: (f["value"], month[f["figure"]]) for f in figures if not same(f["value"], month[f["figure"]])}
    assert wrong == {}, "docs value ≠ built value"

    # only ACM's January and March: Otto is on no roster, ks-ex-4 is March in UTC
    months = rows(engine, "SELECT company_id, period_start FROM core.metrics_company_period ORDER BY 1, 2")
    assert [(r["company_id"], r["period_start"]) for r in months] == [(COMPANY, date(2026, 1, 1)), (COMPANY, MONTH)]

    # each volunteer's VIS components
    for documented in docs_table("### Worked example: the volunteers"):
        [built] = rows(
            engine,
            "SELECT * FROM staging.int_volunteer_month_vis WHERE volunteer_user_id = :v AND period_start = :m",
            v=user_id_for_email(documented["volunteer"], KEY.encode()),
            m=MONTH,
        )
        assert built["company_id"] == COMPANY
        wrong = {k: (v, built[k]) for k, v in documented.items() if k != "volunteer" and not same(v, built[k])}
        assert wrong == {}, f"{documented['volunteer']}: docs value ≠ built value"

    # the value of one improved participant per dimension and scenario
    values = {
        (r["dimension"], r["scenario"]): r["value_per_participant_usd"]
        for r in rows(engine, "SELECT * FROM core.metrics_sroi_outcome_values")
    }
    for documented in docs_table("### Worked example: value per improved participant"):
        for scenario in ("central", "low", "high"):
            assert same(documented[scenario], values[(documented["dimension"], scenario)]), (documented, scenario)

    # building again changes no figure
    before = metrics_state(engine)
    dbt(database_url, "build")
    assert without_write_times(metrics_state(engine)) == without_write_times(before)
