"""The taxonomy shipped in the package: versioned, five dimensions, both languages, each feeding an SROI outcome."""

from __future__ import annotations

import csv
from importlib.resources import files

import pytest
import yaml

from teei.outcomes.taxonomy import DIMENSIONS, LANGUAGES, TAXONOMY_FILE, load_taxonomy, parse_taxonomy
from teei.platform.packaged_files import package_dir


def test_the_taxonomy_is_found_through_the_package_and_is_versioned() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.version
    assert tuple(taxonomy.dimensions) == DIMENSIONS
    for dimension in taxonomy.dimensions.values():
        assert dimension.definition
        for language in LANGUAGES:
            assert dimension.examples.positive[language] and dimension.examples.negative[language]
            assert dimension.cues[language].positive and dimension.cues[language].negative


def test_every_dimension_feeds_an_sroi_outcome_of_the_seeds() -> None:
    seeds = files("dbt_project") / "seeds" / "sroi_outcome_assumptions.csv"
    with seeds.open(encoding="utf-8") as handle:
        seeded = {row["dimension"] for row in csv.DictReader(handle)}
    assert {d.sroi_outcome.dimension for d in load_taxonomy().dimensions.values()} == seeded


def test_a_taxonomy_missing_a_language_is_refused() -> None:
    data = yaml.safe_load((package_dir("teei.outcomes") / TAXONOMY_FILE).read_text(encoding="utf-8"))
    del data["dimensions"]["belonging"]["cues"]["uk"]
    with pytest.raises(ValueError, match="belonging"):
        parse_taxonomy(yaml.safe_dump(data))
