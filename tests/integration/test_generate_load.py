"""Generated exports through the real loader: every file's counts are what its manifest says."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from connectors.registry import get_entity
from teei.generate import BUNDLED_SAMPLE_DIR, MANIFEST_NAME, Manifest, generate_exports
from teei.loader import load_csv_file

pytestmark = pytest.mark.integration

OSLO = ZoneInfo("Europe/Oslo")
Counts = tuple[str, int, int, int, int]


def load_in_order(engine: sa.Engine, out: Path, manifest: Manifest) -> dict[str, Counts]:
    """Load the manifest's files one by one, in its order (the order `teei run` loads them)."""
    results: dict[str, Counts] = {}
    for relative, expected in manifest.files.items():
        spec = get_entity(expected.source, expected.entity)
        result = load_csv_file(
            engine, out / relative, spec, timezone=OSLO, pseudonym_key="test-key", file_name=relative
        )
        assert result.error is None, f"{relative}: {result.error}"
        results[relative] = (
            result.status,
            result.rows_in,
            result.rows_loaded,
            result.rows_quarantined,
            result.rows_duplicate,
        )
    return results


def expected(manifest: Manifest) -> dict[str, Counts]:
    return {
        relative: ("succeeded", c.rows_in, c.rows_loaded, c.rows_quarantined, c.rows_duplicate)
        for relative, c in manifest.files.items()
    }


def scalar(engine: sa.Engine, query: str) -> int:
    with engine.connect() as db:
        value: int = db.execute(sa.text(query)).scalar_one()
    return value


def test_a_messy_generated_set_loads_file_by_file_as_its_manifest_says(engine: sa.Engine, tmp_path: Path) -> None:
    manifest = generate_exports(tmp_path, scale=120, seed=11, messy=True)

    results = load_in_order(engine, tmp_path, manifest)

    assert results == expected(manifest)
    quarantined = sum(counts.rows_quarantined for counts in manifest.files.values())
    assert scalar(engine, "SELECT count(*) FROM ops.quarantine") == quarantined
    assert scalar(engine, "SELECT count(*) FROM raw.roster_volunteers WHERE metadata ? 'Full Name'") > 0


def test_a_clean_generated_set_loads_every_row(engine: sa.Engine, tmp_path: Path) -> None:
    manifest = generate_exports(tmp_path, scale=60, seed=3)

    results = load_in_order(engine, tmp_path, manifest)

    assert results == expected(manifest)
    assert all(loaded == rows_in for _, rows_in, loaded, _, _ in results.values())
    assert scalar(engine, "SELECT count(*) FROM ops.quarantine") == 0


def test_the_bundled_sample_loads_as_its_manifest_says(engine: sa.Engine) -> None:
    manifest = Manifest.read(BUNDLED_SAMPLE_DIR / MANIFEST_NAME)

    assert load_in_order(engine, BUNDLED_SAMPLE_DIR, manifest) == expected(manifest)
