"""`teei generate`: deterministic exports of every source, their messiness, and a manifest that is right.

The manifest is checked against `reference_counts`, a small independent reading of the load rules
(as docs/sources.md and docs/architecture.md describe them): records validated by the contracts,
per-file 0..1 scale detection, mapping constants, in-file repeats, and upserts across files. The
integration test checks the real loader.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from connectors.csv_reader import detect_encoding, sniff_delimiter
from connectors.registry import ENTITIES, EntitySpec, entity_for_file, get_entity
from contracts.fields import field_rules
from teei.devtools.generate import (
    BUNDLED_SAMPLE_DIR,
    CLEAN_STYLES,
    FAULTS,
    MANIFEST_NAME,
    MESSY_STYLES,
    FileCounts,
    Manifest,
    export_files,
    generate_exports,
    population_for,
    refresh_bundled_sample,
)
from teei.devtools.generate.names import COMPANIES, UKRAINIAN_FIRST
from teei.devtools.generate.timestamps import READINGS, render_timestamp

OSLO = ZoneInfo("Europe/Oslo")


# --- a reference reading of the load rules -------------------------------------------------------


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and data records of a CSV file, as the platform's reader decodes and splits them."""
    data = path.read_bytes()
    encoding = detect_encoding(data, complete=True)
    text = data.decode(encoding)
    records = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text, complete=True))]
    records = [row for row in records if any(row)]
    return records[0], records[1:]


def unit_scaled_columns(spec: EntitySpec, header: list[str], rows: list[list[str]]) -> dict[str, tuple[float, float]]:
    """The rule: a scaled column is on 0..1 when every value lies in 0..1 and one is fractional or 0."""
    scales = dict(spec.mapping.scales)
    for index, name in enumerate(header):
        field = spec.mapping.canonical_field(name)
        if field not in scales:
            continue
        values = [row[index].strip() for row in rows if index < len(row) and row[index].strip()]
        try:
            numbers = [float(value.replace(",", ".")) for value in values]
        except ValueError:
            continue
        if numbers and all(0 <= n <= 1 for n in numbers) and any(n == 0 or n % 1 for n in numbers):
            scales[field] = (0.0, 1.0)
    return scales


def reference_counts(out: Path, manifest: Manifest, timezone: ZoneInfo = OSLO) -> dict[str, FileCounts]:
    """What a first load of the manifest's files, in its order, gives by the loader's rules."""
    stored: dict[tuple[str, tuple[Any, ...]], str] = {}  # (raw table, natural key) -> record hash
    counts: dict[str, FileCounts] = {}
    for relative, expected in manifest.files.items():
        spec = get_entity(expected.source, expected.entity)
        header, rows = read_rows(out / relative)
        fields = [spec.mapping.canonical_field(name) for name in header]
        context = {"timezone": timezone, "scales": unit_scaled_columns(spec, header, rows)}
        result = FileCounts(source=spec.source, entity=spec.entity, rows_in=len(rows))
        valid: list[tuple[tuple[Any, ...], str]] = []
        for row in rows:
            data: dict[str, str] = dict(spec.mapping.constants)
            extras = {}
            for name, field, value in zip(header, fields, row, strict=True):
                if field is None:
                    extras[name] = value
                elif value.strip():
                    data[field] = spec.mapping.normalise_value(field, value)
            try:
                record = spec.record.model_validate(data, context=context)
            except ValidationError:
                result.rows_quarantined += 1
                continue
            key = tuple(getattr(record, name) for name in spec.natural_key)
            valid.append(
                (key, hashlib.sha256(record.model_dump_json().encode() + json.dumps(extras).encode()).hexdigest())
            )
        last = {key: (position, digest) for position, (key, digest) in enumerate(valid)}
        for position, (key, digest) in enumerate(valid):
            last_position, last_digest = last[key]
            if position < last_position:
                if digest == last_digest:
                    result.rows_duplicate += 1
                else:
                    result.rows_quarantined += 1
            elif stored.get((spec.raw_table, key)) == digest:
                result.rows_duplicate += 1
            else:
                stored[(spec.raw_table, key)] = digest
                result.rows_loaded += 1
        counts[relative] = result
    return counts


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["generated", "bundled"])
def messy(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    """A messy set: one generated here, and the bundled sample (what `teei up` loads)."""
    if request.param == "bundled":
        return BUNDLED_SAMPLE_DIR, Manifest.read(BUNDLED_SAMPLE_DIR / MANIFEST_NAME)
    out = tmp_path_factory.mktemp("messy")
    return out, generate_exports(out, scale=150, seed=7, messy=True)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("clean")
    return out, generate_exports(out, scale=150, seed=7)


def all_bytes(out: Path) -> dict[str, bytes]:
    return {str(path.relative_to(out)): path.read_bytes() for path in sorted(out.rglob("*")) if path.is_file()}


# --- determinism and layout ---------------------------------------------------------------------------


def test_the_same_arguments_write_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate_exports(tmp_path / name, scale=40, seed=seed, messy=True)

    first, again, other = (all_bytes(tmp_path / name) for name in "abc")

    assert first == again
    assert first.keys() == other.keys()
    assert all(first[name] != other[name] for name in first)


def test_files_are_laid_out_like_the_landing_folder_and_listed_in_load_order(clean: tuple[Path, Manifest]) -> None:
    out, manifest = clean

    written = sorted(str(path.relative_to(out)) for path in out.rglob("*.csv"))

    assert sorted(manifest.files) == written
    assert len(written) == 15  # three months of Kintell sessions and ratings, one export of every other kind
    order = list(ENTITIES.values())
    specs = [entity_for_file(Path(name)) for name in manifest.files]
    assert all(spec is not None for spec in specs)
    positions = [(order.index(spec), name) for spec, name in zip(specs, manifest.files, strict=True) if spec]
    assert positions == sorted(positions)
    assert {(spec.source, spec.entity) for spec in specs if spec} == set(ENTITIES)
    assert Manifest.read(out / MANIFEST_NAME) == manifest
    assert list(json.loads((out / MANIFEST_NAME).read_text())) == ["scale", "seed", "messy", "files"]


def test_a_clean_set_loads_every_row(clean: tuple[Path, Manifest]) -> None:
    out, manifest = clean

    assert all(counts.rows_in > 0 and counts.rows_loaded == counts.rows_in for counts in manifest.files.values())
    assert reference_counts(out, manifest) == manifest.files


def test_the_manifest_gives_what_loading_the_messy_set_gives(messy: tuple[Path, Manifest]) -> None:
    out, manifest = messy

    for counts in manifest.files.values():
        assert counts.rows_in == counts.rows_loaded + counts.rows_quarantined + counts.rows_duplicate
        assert counts.rows_quarantined > 0 and counts.rows_duplicate > 0
    assert reference_counts(out, manifest) == manifest.files


@pytest.mark.parametrize("timezone", ["UTC", "Pacific/Auckland", "America/Los_Angeles"])
def test_the_counts_do_not_depend_on_the_time_zone_naive_times_are_read_in(
    messy: tuple[Path, Manifest], timezone: str
) -> None:
    out, manifest = messy

    assert reference_counts(out, manifest, ZoneInfo(timezone)) == manifest.files


@pytest.mark.parametrize("scale", [1, 2, 7])
def test_tiny_sets_are_still_complete_and_right(tmp_path: Path, scale: int) -> None:
    manifest = generate_exports(tmp_path, scale=scale, seed=scale, messy=True)

    assert reference_counts(tmp_path, manifest) == manifest.files


def test_the_bundled_sample_is_what_the_refresh_writes(tmp_path: Path) -> None:
    manifest = refresh_bundled_sample(tmp_path)

    assert manifest.messy
    assert all_bytes(tmp_path) == all_bytes(BUNDLED_SAMPLE_DIR)


# --- realistic content --------------------------------------------------------------------------------


def records(out: Path, relative: str) -> list[Any]:
    """The valid records of one clean file."""
    spec = entity_for_file(Path(relative))
    assert spec is not None
    header, rows = read_rows(out / relative)
    fields = [spec.mapping.canonical_field(name) for name in header]
    result = []
    for row in rows:
        data = dict(spec.mapping.constants)
        data.update(
            {f: spec.mapping.normalise_value(f, v) for f, v in zip(fields, row, strict=True) if f and v.strip()}
        )
        result.append(spec.record.model_validate(data, context={"timezone": OSLO, "scales": spec.mapping.scales}))
    return result


def every(out: Path, kind: str) -> list[Any]:
    return [record for path in sorted(out.glob(f"{kind}_*.csv")) for record in records(out, str(path.relative_to(out)))]


def test_references_between_files_hold(clean: tuple[Path, Manifest]) -> None:
    out, _ = clean

    sessions = every(out, "kintell/sessions")
    ratings = every(out, "kintell/ratings")
    matches = every(out, "buddy/matches")
    companies = every(out, "roster/companies")
    volunteers = every(out, "roster/volunteers")
    progress = every(out, "upskilling/ecornell") + every(out, "upskilling/itslearning")
    credentials = every(out, "upskilling/credentials")

    assert {r.session_id for r in ratings} <= {s.session_id for s in sessions if s.completed_at}
    match_ids = {m.match_id for m in matches}
    for kind in ("events", "checkins", "feedback"):
        assert {r.match_id for r in every(out, f"buddy/{kind}")} <= match_ids
    domains = {c.company_code: d for c in companies for code, _, d, _, _ in COMPANIES if code == c.company_code}
    assert all(v.employee_email.endswith("@" + domains[v.company_code]) for v in volunteers)
    staff = {v.employee_email for v in volunteers}
    assert {s.volunteer_email for s in sessions} <= staff
    assert {m.buddy_email for m in matches} <= staff
    people = population_for(clean[1].scale, clean[1].seed)
    newcomers = {people.participant_email(p) for p in range(people.participants)}
    assert {s.participant_email for s in sessions} <= newcomers
    assert {m.participant_email for m in matches} <= newcomers
    assert {p.user_email for p in progress} | {c.user_email for c in credentials} <= newcomers
    assert len({m.participant_email for m in matches}) == len(matches)  # one buddy each
    assert not newcomers & staff
    assert {c.credential_id for c in credentials} == {p.credential_ref for p in progress if p.credential_ref}
    assert all(p.status == "completed" for p in progress if p.credential_ref)
    assert {p.provider for p in progress} == {"ecornell", "itslearning"}


def test_people_sessions_and_courses_look_real(clean: tuple[Path, Manifest]) -> None:
    out, _ = clean

    sessions = every(out, "kintell/sessions")
    participants = {s.participant_email for s in sessions}
    ukrainian = sum(email.split(".")[0] in UKRAINIAN_FIRST for email in participants)
    assert ukrainian > 0.7 * len(participants)
    assert ukrainian < len(participants)  # and some Arabic, Farsi and Tigrinya names
    assert {s.session_type for s in sessions} == {"language", "mentorship"}
    assert {s.language_level for s in sessions} >= {"A1", "A2", "B1", "B2", "C1"}
    held = [s for s in sessions if s.completed_at]
    assert all(1 <= (s.duration_minutes or 0) <= 480 for s in held)
    assert {s.scheduled_at.strftime("%Y-%m") for s in sessions} == {"2026-08", "2026-09", "2026-10"}
    assert any(s.feedback_text and re.search("[а-яіїє]", s.feedback_text) for s in sessions)
    assert any(s.feedback_text and re.fullmatch(r"[\x20-\x7e]+", s.feedback_text) for s in sessions)
    ratings = every(out, "kintell/ratings")
    assert {r.from_role for r in ratings} == {"participant", "volunteer"}
    assert {r.rating for r in ratings} == {0.0, 0.25, 0.5, 0.75, 1.0}
    progress = every(out, "upskilling/ecornell") + every(out, "upskilling/itslearning")
    assert {p.status for p in progress} == {"enrolled", "in_progress", "completed", "dropped"}
    assert all(
        p.progress_percent == {"enrolled": 0, "completed": 100}[p.status]
        for p in progress
        if p.status in ("enrolled", "completed")
    )
    assert all(p.final_score is not None and p.completed_at for p in progress if p.status == "completed")
    checkins = every(out, "buddy/checkins")
    assert all(isinstance(c.question_responses, dict) for c in checkins if c.question_responses is not None)


def test_the_population_follows_the_scale() -> None:
    small, large = population_for(60, 1), population_for(100_000, 1)

    assert (small.participants, small.volunteers, small.companies) == (60, 15, 3)
    assert (large.participants, large.volunteers, large.companies) == (100_000, 25_000, 12)
    emails = [large.participant_email(p) for p in range(100_000)]
    assert len(set(emails)) == 100_000
    assert len({large.volunteer_email(v) for v in range(large.volunteers)}) == large.volunteers


# --- messy features -----------------------------------------------------------------------------------


def test_each_style_names_known_columns_and_spells_known_values() -> None:
    for relative, spec in export_files():
        for style in (MESSY_STYLES[relative], CLEAN_STYLES[(spec.source, spec.entity)]):
            for field, header in style.columns:
                assert spec.mapping.canonical_field(header) == field, header
            assert all(spec.mapping.canonical_field(extra) is None for extra in style.extras)
            required = {name for name, info in spec.record.model_fields.items() if info.is_required()}
            assert required - set(spec.mapping.constants) <= {field for field, _ in style.columns}
    # The generator writes the mapping's own spellings of each value (`EntityMapping.spellings`).
    for spec in ENTITIES.values():
        for field, values in spec.mapping.spellings.items():
            assert set(values) == set(next(rule.choices for rule in field_rules(spec.record) if rule.name == field))
            for canonical, spellings in values.items():
                assert {spec.mapping.normalise_value(field, spelling) for spelling in spellings} == {canonical}


def test_messy_files_differ_in_encoding_delimiter_and_line_ends(messy: tuple[Path, Manifest]) -> None:
    out, _ = messy
    raw = {name: (out / name).read_bytes() for name in messy[1].files}

    with_bom = [name for name, data in raw.items() if data.startswith(codecs.BOM_UTF8)]
    cp1252_only = []
    for name, data in raw.items():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            data.decode("cp1252")
            cp1252_only.append(name)
    assert "kintell/sessions_2026-08.csv" in with_bom and len(with_bom) >= 3
    assert cp1252_only == ["upskilling/itslearning_2026-10.csv", "roster/companies_2026-10.csv"]
    assert "ø" in raw["roster/companies_2026-10.csv"].decode("cp1252")
    assert "æ" in raw["upskilling/itslearning_2026-10.csv"].decode("cp1252") or "ø" in raw[
        "upskilling/itslearning_2026-10.csv"
    ].decode("cp1252")
    semicolons = [name for name in raw if read_delimiter(out / name) == ";"]
    assert len(semicolons) >= 3
    assert all(b"\r\n" in raw[name] for name, style in MESSY_STYLES.items() if style.line_end == "\r\n")
    assert b"\r\n" not in raw["kintell/sessions_2026-10.csv"]
    events = raw["buddy/events_2026-10.csv"].decode()
    assert re.search(r'"[^"\n]*;[^"\n]*"', events) and re.search(r'"[^"\n]*,[^"\n]*"', events)


def read_delimiter(path: Path) -> str:
    data = path.read_bytes()
    return sniff_delimiter(data.decode(detect_encoding(data, complete=True)), complete=True)


def test_messy_files_hold_line_breaks_quotes_blank_lines_and_odd_headers(messy: tuple[Path, Manifest]) -> None:
    out, manifest = messy
    texts = {
        name: (out / name).read_bytes().decode(detect_encoding((out / name).read_bytes(), complete=True))
        for name in manifest.files
    }

    fields = [cell for name in manifest.files for row in read_rows(out / name)[1] for cell in row]
    assert any("\n\n" in cell for cell in fields)  # an empty line inside a quoted field
    assert any('"' in cell and "\n" in cell for cell in fields)
    assert '""' in texts["kintell/sessions_2026-08.csv"] + texts["buddy/checkins_2026-10.csv"]
    blank_line = re.compile(r"\n\r?\n(?=[^\n]*[,;])")
    assert blank_line.search(texts["buddy/feedback_2026-10.csv"])
    assert blank_line.search(texts["kintell/sessions_2026-09.csv"])
    headers = {name: read_rows(out / name)[0] for name in manifest.files}
    assert "feedbackId" in headers["buddy/feedback_2026-10.csv"]
    assert "SESSION_ID" in headers["kintell/sessions_2026-09.csv"]
    assert "rating-id" in headers["kintell/ratings_2026-10.csv"]
    assert "Coordinator" in headers["buddy/matches_2026-10.csv"]  # an extra column
    assert not any(
        get_entity("buddy", "events").mapping.canonical_field(h) == "location"
        for h in headers["buddy/events_2026-10.csv"]
    )
    assert headers["upskilling/ecornell_2026-10.csv"][:4] == [
        "Learner Email",
        "Course Code",
        "Course Title",
        "Enrollment Status",
    ]
    assert headers["upskilling/itslearning_2026-10.csv"][:3] == ["User e-mail", "CourseCode", "Course name"]


def test_messy_values_come_in_every_reading_scale_and_spelling(messy: tuple[Path, Manifest]) -> None:
    out, _ = messy
    sessions = [row for month in ("08", "09", "10") for row in read_rows(out / f"kintell/sessions_2026-{month}.csv")[1]]
    scheduled = {row[4] for row in sessions}

    patterns = {
        "iso_z": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
        "iso_offset": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00",
        "naive": r"\d{4}-\d\d-\d\d \d\d:\d\d",
        "naive_iso": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d",
        "dotted": r"\d\d\.\d\d\.\d{4} \d\d:\d\d",
        "iso_date": r"\d{4}-\d\d-\d\d",
        "dotted_date": r"\d\d\.\d\d\.\d{4}",
    }
    assert set(patterns) == set(READINGS)
    for reading, pattern in patterns.items():
        assert any(re.fullmatch(pattern, value) for value in scheduled), reading
    unit_ratings = {row[3] for row in read_rows(out / "kintell/ratings_2026-09.csv")[1]}
    assert unit_ratings >= {"0", "0.25", "0.5", "0.75", "1"}
    assert any("," in row[7] for row in read_rows(out / "upskilling/itslearning_2026-10.csv")[1])  # 87,5
    emails = [row[2] for row in sessions]
    assert any(email != email.strip() for email in emails) and any(email != email.lower() for email in emails)
    assert {row[1] for row in sessions} >= {"Language Connect", "Mentor session"}


def test_messy_files_have_every_kind_of_bad_row(messy: tuple[Path, Manifest]) -> None:
    out, manifest = messy
    text = "\n".join(
        (out / name).read_bytes().decode(detect_encoding((out / name).read_bytes(), complete=True))
        for name in manifest.files
    )

    for value in ("31.02.2026 10:00", "Coffee chat", "D1", "104", "112,5", "kari.hansen at acme.example", "Venteliste"):
        assert value in text
    assert any("900" in row for row in read_rows(out / "kintell/sessions_2026-08.csv")[1])
    kinds = {fault.kind for faults in FAULTS.values() for fault in faults}
    assert kinds >= {
        "required field empty",
        "unparseable date",
        "unknown value",
        "duration out of range",
        "not a CEFR level",
        "rating off its scale",
        "score out of range",
        "invalid email",
        "ends before it starts",
    }


def test_rows_repeat_exactly_and_keys_repeat_with_other_values(messy: tuple[Path, Manifest]) -> None:
    out, manifest = messy

    for name in manifest.files:
        _, rows = read_rows(out / name)
        lines = Counter(tuple(row) for row in rows)
        assert any(count > 1 for count in lines.values()), name
        spec = entity_for_file(Path(name))
        assert spec is not None
    sessions = read_rows(out / "kintell/sessions_2026-08.csv")[1]
    by_key = Counter(row[0] for row in sessions)
    assert any(count > 1 and len({tuple(r) for r in sessions if r[0] == key}) > 1 for key, count in by_key.items())
    # A later month's export repeats sessions of the month before.
    keys = [{row[0] for row in read_rows(out / f"kintell/sessions_2026-{m}.csv")[1]} for m in ("08", "09", "10")]
    assert keys[0] & keys[1] and keys[1] & keys[2]


def test_timestamps_render_oslo_wall_clock_in_every_reading() -> None:
    from datetime import datetime

    summer, winter = datetime(2026, 8, 10, 10, 0), datetime(2026, 10, 26, 10, 0)

    assert render_timestamp(summer, "iso_z") == "2026-08-10T08:00:00Z"
    assert render_timestamp(summer, "iso_offset") == "2026-08-10T10:00:00+02:00"
    assert render_timestamp(winter, "iso_z") == "2026-10-26T09:00:00Z"
    assert render_timestamp(winter, "dotted") == "26.10.2026 10:00"
    assert render_timestamp(winter, "dotted_date") == "26.10.2026"
    assert render_timestamp(winter, "naive") == "2026-10-26 10:00"


def test_memory_stays_flat_as_the_scale_grows(tmp_path: Path) -> None:
    peaks = []
    for scale in (300, 3000):
        tracemalloc.start()
        generate_exports(tmp_path / str(scale), scale=scale, seed=1, messy=True)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()

    assert peaks[1] < peaks[0] * 1.5 + 1_000_000
