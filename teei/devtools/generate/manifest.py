"""`manifest.json`: what a correct first load of a generation's files gives, file by file."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from connectors.registry import ENTITIES, EntitySpec
from teei.devtools.generate.run import MONTHS
from teei.devtools.generate.writer import FileCounts

MANIFEST_NAME = "manifest.json"


class Manifest(BaseModel):
    """`manifest.json`: the arguments and, per file in load order, the counts a first load gives."""

    scale: int
    seed: int
    messy: bool
    files: dict[str, FileCounts]

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """The manifest at `path`."""
        return cls.model_validate_json(path.read_text(encoding="utf-8"))


def export_files() -> list[tuple[str, EntitySpec]]:
    """Every file `generate_exports` writes, as (landing-relative path, entity), in load order."""
    files: list[tuple[str, EntitySpec]] = []
    for (source, entity), spec in ENTITIES.items():
        months = MONTHS if source == "kintell" else MONTHS[-1:]
        files.extend((f"{source}/{entity}_{month}.csv", spec) for month in months)
    return files
