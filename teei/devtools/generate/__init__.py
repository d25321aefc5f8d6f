"""`teei generate`: deterministic, realistic exports of every source, laid out like the landing folder.

`generate_exports(out, scale=N, seed=S, messy=...)` writes, for N participants (newcomers), a few
companies and their volunteering employees, three months of Kintell sessions and ratings, Buddy
matches with their events, check-ins and feedback, course progress from eCornell and itslearning
(each in its own column names) with the credentials earned, and the company rosters; plus
`manifest.json`: the counts a correct first load into an empty database gives, file by file, in
the order `teei run` loads them.

Clean output loads completely. `messy=True` mixes in what real exports do (each source's
`EntityExport`: its messy styles and faults): a BOM, Windows-1252, semicolons, CRLF, header
spellings, extra and missing columns, blank lines, line breaks and quotes inside fields, every
timestamp reading, ratings on 0–1, scruffy emails, value spellings; bad rows of every kind, exact
repeats, a key repeated with other values, and later files repeating records of earlier ones.

Same arguments, same bytes, forever (`randomness`). Rows are written as they are made; what is kept
for later (rows to repeat, sessions an export will show again) is bounded, so memory stays flat
however large N is. The fields come from the records and the value spellings from the connectors'
mappings, so the generator follows a change to either.

The package, one module per job: `randomness`, `names`, `people`, `timestamps`, `faults`, `writer`,
`run`, `manifest`; one per source: `kintell`, `buddy`, `upskilling`, `roster`; and `samples`, one
large Kintell file for the benchmarks. Refresh the bundled sample (`sample_data/`, copied into the
landing folder by `teei up`) with `python -m teei.devtools.generate`.
"""

from __future__ import annotations

from pathlib import Path

from teei.devtools.generate import buddy, kintell, roster, upskilling
from teei.devtools.generate.faults import Fault
from teei.devtools.generate.manifest import MANIFEST_NAME, FileCounts, Manifest, export_files
from teei.devtools.generate.people import Population, population_for
from teei.devtools.generate.randomness import Dice, mix
from teei.devtools.generate.run import Run
from teei.devtools.generate.samples import write_kintell_sessions
from teei.devtools.generate.writer import EntityExport, Style
from teei.platform.packaged_files import package_dir

__all__ = [
    "BUNDLED_SAMPLE_DIR",
    "CLEAN_STYLES",
    "EXPORTS",
    "FAULTS",
    "MANIFEST_NAME",
    "MESSY_STYLES",
    "FileCounts",
    "Manifest",
    "Population",
    "export_files",
    "generate_exports",
    "population_for",
    "refresh_bundled_sample",
    "write_kintell_sessions",
]

BUNDLED_SAMPLE_DIR = package_dir("teei.devtools") / "sample_data"
BUNDLED_SAMPLE_SCALE, BUNDLED_SAMPLE_SEED = 60, 2026

# The sources, in the order they are generated (the ids of each run on from the ones before).
_SOURCES = (kintell, buddy, upskilling, roster)
EXPORTS: tuple[EntityExport, ...] = tuple(export for source in _SOURCES for export in source.EXPORTS)
"""How every entity's files are written."""
CLEAN_STYLES: dict[tuple[str, str], Style] = {(e.spec.source, e.spec.entity): e.clean for e in EXPORTS}
"""Clean files: UTF-8, commas, LF, each source's usual headers and timestamp reading."""
MESSY_STYLES: dict[str, Style] = {relative: style for e in EXPORTS for relative, style in e.messy.items()}
"""Messy files, one style each, by landing-relative path."""
FAULTS: dict[tuple[str, str], tuple[Fault, ...]] = {(e.spec.source, e.spec.entity): e.faults for e in EXPORTS}
"""The bad rows of each entity; a messy file has each of its entity's at least once."""


def generate_exports(out: Path, *, scale: int, seed: int, messy: bool = False) -> Manifest:
    """Write the exports of every source for `scale` participants under `out`, and `manifest.json`.

    Files of the same names in `out` are overwritten, others left alone. Returns the manifest.
    """
    run = Run(out, population_for(scale, seed), Dice(mix(seed, 1)), Dice(mix(seed, 2)) if messy else None)
    out.mkdir(parents=True, exist_ok=True)
    for source in _SOURCES:
        source.write(run)
    files = {relative: run.files[relative].counts for relative, _ in export_files()}
    manifest = Manifest(scale=scale, seed=seed, messy=messy, files=files)
    (out / MANIFEST_NAME).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return manifest


def refresh_bundled_sample(sample_dir: Path = BUNDLED_SAMPLE_DIR) -> Manifest:
    """Rewrite the bundled sample that `teei up` copies into the landing folder."""
    return generate_exports(sample_dir, scale=BUNDLED_SAMPLE_SCALE, seed=BUNDLED_SAMPLE_SEED, messy=True)
