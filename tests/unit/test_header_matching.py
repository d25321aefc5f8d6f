"""Header matching and value normalisation: how export columns and values find their canonical names."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.mapping import load_mapping, normalise_header
from connectors.registry import KINTELL_SESSIONS, entity_for_file, get_entity

MAPPING = KINTELL_SESSIONS.mapping


@pytest.mark.parametrize(
    "header",
    ["session_id", "Session ID", "session-id", "SESSION_ID", "sessionId", " Session.ID: ", "Session  Id"],
)
def test_case_spaces_underscores_hyphens_punctuation_and_camel_case_are_ignored(header: str) -> None:
    assert normalise_header(header) == "sessionid"
    assert MAPPING.canonical_field(header) == "session_id"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Learner Email", "participant_email"),
        ("Newcomer e-mail", "participant_email"),
        ("Participant E-mail", "participant_email"),
        ("Mentor Email", "volunteer_email"),
        ("Volunteer", "volunteer_email"),
        ("Type", "session_type"),
        ("Session kind", "session_type"),
        ("Ended At", "completed_at"),
        ("End time", "completed_at"),
        ("Duration (min)", "duration_minutes"),
        ("MINUTES", "duration_minutes"),
        ("CEFR level", "language_level"),
        ("Comments", "feedback_text"),
        ("Feedback", "feedback_text"),
        ("Rating (1-5)", "rating"),
        ("topics", "topics"),
    ],
)
def test_aliases_from_the_mapping_file_name_canonical_fields(header: str, field: str) -> None:
    assert MAPPING.canonical_field(header) == field


def test_unknown_headers_have_no_canonical_field() -> None:
    assert MAPPING.canonical_field("Region") is None
    assert MAPPING.canonical_field("") is None


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("Language Connect", "language"),
        ("language-connect", "language"),
        ("Language", "language"),
        ("LANGUAGE", "language"),
        ("Mentorship", "mentorship"),
        ("Mentor session", "mentorship"),
        ("mentor_session", "mentorship"),
    ],
)
def test_session_types_are_normalised(value: str, canonical: str) -> None:
    assert MAPPING.normalise_value("session_type", value) == canonical


def test_unknown_values_and_fields_without_normalisations_come_back_unchanged() -> None:
    assert MAPPING.normalise_value("session_type", "Coffee chat") == "Coffee chat"
    assert MAPPING.normalise_value("feedback_text", "Language Connect") == "Language Connect"


def test_the_rating_scale_comes_from_the_mapping() -> None:
    assert MAPPING.scales == {"rating": (1.0, 5.0)}


def test_a_spelling_meaning_two_fields_is_refused(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("sessions:\n  aliases:\n    participant_email: [email]\n    volunteer_email: [E-mail]\n")

    with pytest.raises(ValueError, match="'E-mail' means both participant_email and volunteer_email"):
        load_mapping(mapping, "sessions")


def test_a_missing_section_is_refused(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("sessions:\n  aliases: {session_id: []}\n")

    with pytest.raises(ValueError, match="no 'ratings' section"):
        load_mapping(mapping, "ratings")


@pytest.mark.parametrize(
    "path", ["kintell/sessions.csv", "kintell/sessions_2026-10.csv", "Kintell/Sessions_Export.CSV"]
)
def test_landing_files_are_matched_by_folder_and_name_prefix(path: str) -> None:
    assert entity_for_file(Path(path)) is KINTELL_SESSIONS


@pytest.mark.parametrize(
    ("path", "entity"),
    [
        ("kintell/ratings_2026.csv", "kintell/ratings"),
        ("buddy/matches_2026-10.csv", "buddy/matches"),
        ("Buddy/CheckIns.csv", "buddy/checkins"),
        ("upskilling/eCornell_progress.csv", "upskilling/ecornell"),
        ("upskilling/itslearning-2026.csv", "upskilling/itslearning"),
        ("upskilling/credentials.csv", "upskilling/credentials"),
        ("roster/companies.csv", "roster/companies"),
        ("roster/volunteers_acme.csv", "roster/volunteers"),
    ],
)
def test_every_export_kind_is_known_by_its_folder_and_prefix(path: str, entity: str) -> None:
    spec = entity_for_file(Path(path))

    assert spec is not None and f"{spec.source}/{spec.entity}" == entity


@pytest.mark.parametrize(
    "path", ["buddy/sessions.csv", "kintell/sessions.xlsx", "sessions.csv", "roster/employees.csv"]
)
def test_other_landing_files_are_no_entity(path: str) -> None:
    assert entity_for_file(Path(path)) is None


def test_entities_are_found_by_source_and_name() -> None:
    spec = get_entity("kintell", "sessions")

    assert spec is KINTELL_SESSIONS
    assert (spec.asset_name, spec.raw_table, spec.natural_key) == (
        "kintell_sessions",
        "kintell_sessions",
        ("session_id",),
    )
    assert spec.identities == {"participant_email": "participant_user_id", "volunteer_email": "volunteer_user_id"}
    with pytest.raises(KeyError, match=r"unknown source entity kintell/coffee; known: buddy/checkins, "):
        get_entity("kintell", "coffee")
