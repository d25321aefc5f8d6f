"""Generated exports through the real loader: every file's counts are what its manifest says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from teei.devtools.generate import BUNDLED_SAMPLE_DIR, MANIFEST_NAME, Manifest, generate_exports

pytestmark = pytest.mark.integration

Counts = tuple[str, int, int, int, int]


def counts(results: dict[str, Any]) -> dict[str, Counts]:
    return {
        relative: (r.status, r.rows_in, r.rows_loaded, r.rows_quarantined, r.rows_duplicate)
        for relative, r in results.items()
    }


def expected(manifest: Manifest) -> dict[str, Counts]:
    return {
        relative: ("succeeded", c.rows_in, c.rows_loaded, c.rows_quarantined, c.rows_duplicate)
        for relative, c in manifest.files.items()
    }


def scalar(engine: sa.Engine, query: str) -> int:
    with engine.connect() as db:
        value: int = db.execute(sa.text(query)).scalar_one()
    return value


def test_a_messy_generated_set_loads_file_by_file_as_its_manifest_says(
    load_exports: Any, engine: sa.Engine, tmp_path: Path
) -> None:
    manifest = generate_exports(tmp_path, scale=120, seed=11, messy=True)

    results = counts(load_exports(engine, tmp_path, manifest))

    assert results == expected(manifest)
    quarantined = sum(counts.rows_quarantined for counts in manifest.files.values())
    assert scalar(engine, "SELECT count(*) FROM ops.quarantine") == quarantined
    assert scalar(engine, "SELECT count(*) FROM raw.roster_volunteers WHERE metadata ? 'Full Name'") > 0


def test_a_clean_generated_set_loads_every_row(load_exports: Any, engine: sa.Engine, tmp_path: Path) -> None:
    manifest = generate_exports(tmp_path, scale=60, seed=3)

    results = counts(load_exports(engine, tmp_path, manifest))

    assert results == expected(manifest)
    assert all(loaded == rows_in for _, rows_in, loaded, _, _ in results.values())
    assert scalar(engine, "SELECT count(*) FROM ops.quarantine") == 0


def test_the_bundled_sample_loads_as_its_manifest_says(load_exports: Any, engine: sa.Engine) -> None:
    manifest = Manifest.read(BUNDLED_SAMPLE_DIR / MANIFEST_NAME)

    assert counts(load_exports(engine, BUNDLED_SAMPLE_DIR, manifest)) == expected(manifest)
