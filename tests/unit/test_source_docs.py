"""docs/sources.md is generated from the registry, the records and the mappings, and kept current."""

from __future__ import annotations

from connectors.registry import ENTITIES
from teei.devtools.docs.sources import DOCS_PATH, render


def test_the_committed_sources_doc_is_what_the_generator_writes() -> None:
    assert DOCS_PATH.read_text(encoding="utf-8") == render(), "run `python -m teei.devtools.docs.sources`"


def test_every_entity_has_its_section_with_its_natural_key() -> None:
    text = render()
    for spec in ENTITIES.values():
        assert f"## `{spec.source}/{spec.file_prefix}*.csv` → `raw.{spec.raw_table}`" in text
        assert "natural key: " + " + ".join(f"`{key}`" for key in spec.natural_key) in text
