"""One generation in progress: the period it covers, where it writes, who takes part, its dice and ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from teei.devtools.generate.people import Population
from teei.devtools.generate.randomness import Dice
from teei.devtools.generate.writer import EntityExport, ExportWriter

MONTHS = ("2026-08", "2026-09", "2026-10")
"""The months of Kintell exports; the other exports are taken at the end of the last one."""
EXPORTED_AT = datetime(2026, 10, 31, 18, 0)


@dataclass
class Counters:
    """Running numbers of the ids, so ids stay unique across files and entities."""

    session: int = 0
    rating: int = 0
    match: int = 0
    event: int = 0
    checkin: int = 0
    feedback: int = 0
    credential: int = 0
    company: int = 0
    volunteer: int = 0

    def next(self, name: str) -> int:
        """The next number of `name`'s ids."""
        value: int = getattr(self, name) + 1
        setattr(self, name, value)
        return value


@dataclass
class Run:
    """One generation: where it writes, who takes part, its dice, ids, and the files it writes.

    `dice` makes the records; `mess` (messy mode only) everything a messy file adds, so a clean and
    a messy generation of one seed hold the same people and sessions.
    """

    out: Path
    people: Population
    dice: Dice
    mess: Dice | None
    ids: Counters = field(default_factory=Counters)
    files: dict[str, ExportWriter] = field(default_factory=dict)

    @property
    def messy(self) -> bool:
        """Whether this generation writes messy files."""
        return self.mess is not None

    def open(self, export: EntityExport, month: str = MONTHS[-1]) -> ExportWriter:
        """A writer for `<source>/<entity>_<month>.csv` in the clean or this file's messy style."""
        spec = export.spec
        relative = f"{spec.source}/{spec.entity}_{month}.csv"
        style = export.messy[relative] if self.mess is not None else export.clean
        writer = ExportWriter(
            self.out, relative, spec, style, faults=export.faults, revise=export.revise, mess=self.mess
        )
        self.files[relative] = writer
        return writer
