"""What a webhook body must be before it reaches the loader: JSON of bounded depth, records, text a
database can hold, and every required field in some record."""

from __future__ import annotations

import json

import pytest

from connectors.registry import get_entity
from teei.ingest.webhook_delivery import (
    MAX_JSON_DEPTH,
    BodyInvalid,
    BodyMalformed,
    json_depth,
    records_of,
    table_of,
)

SESSIONS = get_entity("kintell", "sessions")
GOOD = {"session_id": "s1", "session_type": "language", "participant_email": "a@x.org", "volunteer_email": "v@y.org"}


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('"[[[["', 0),
        ("[]", 1),
        ('[{"a": [1, {"b": "]]]}}"}]}]', 4),
        (r'[{"a": "\"[[[\\", "b": [[]]}]', 4),
        ("[" * 100_000 + "]" * 100_000, 100_000),
        ('["unterminated [[[', 4),  # not JSON: an estimate, and the parser refuses it anyway
    ],
)
def test_json_depth_counts_nesting_outside_strings(text: str, depth: int) -> None:
    assert json_depth(text) == depth


def test_a_body_at_the_depth_limit_parses_and_one_level_more_is_malformed() -> None:
    inner = "1"
    for _ in range(MAX_JSON_DEPTH - 2):
        inner = '{"n": ' + inner + "}"
    at_limit = '[{"session_id": ' + inner + "}]"
    assert json_depth(at_limit) == MAX_JSON_DEPTH
    assert records_of(at_limit.encode())
    with pytest.raises(BodyMalformed, match=f"{MAX_JSON_DEPTH} levels"):
        records_of(('[{"session_id": {"n": ' + inner + "}}]").encode())


@pytest.mark.parametrize(
    "body",
    [b"not json", b'[{"a": 1}', b"\xff\xfe[]", b'[{"a": ' + b"9" * 5000 + b"}]", "[" * 100_000 + "]" * 100_000],
    ids=["not JSON", "truncated", "not UTF-8", "5000 digits", "100000 deep"],
)
def test_what_is_not_json_is_malformed(body: bytes | str) -> None:
    with pytest.raises(BodyMalformed):
        records_of(body.encode() if isinstance(body, str) else body)


@pytest.mark.parametrize("body", [b"{}", b"[]", b"[1]", b'{"records": {}}', b"3"])
def test_json_that_is_not_records_is_invalid(body: bytes) -> None:
    with pytest.raises(BodyInvalid):
        records_of(body)


@pytest.mark.parametrize(
    ("record", "named"),
    [
        ({"session_type": "lang\x00uage"}, 'record 2, field "session_type": the value holds a NUL'),
        ({"session_type": "lang\ud800uage"}, 'record 2, field "session_type": the value holds a lone surrogate'),
        ({"topics": ["a", "b\udfff"]}, 'record 2, field "topics"'),
        ({"extra": {"k": "\ud800"}}, 'record 2, field "extra"'),
        ({"note\x00": "x"}, "a field name"),
    ],
)
def test_text_no_database_can_hold_names_the_record_and_field(record: dict[str, object], named: str) -> None:
    with pytest.raises(BodyInvalid) as refused:
        table_of([GOOD, GOOD | record], SESSIONS)
    assert refused.value.reason.startswith(named), refused.value.reason


def test_a_required_field_in_no_record_is_named_but_one_left_empty_is_the_loaders() -> None:
    with pytest.raises(BodyInvalid, match="participant_email, volunteer_email"):
        table_of([{"session_id": "s1", "session_type": "language"}], SESSIONS)
    header, rows = table_of([GOOD, {"session_id": "s2", "Session Type": "language"}], SESSIONS)
    assert header == [*GOOD, "Session Type"]
    assert rows[1][2] is None  # participant_email of the second record: quarantined by the loader


def test_a_nul_escaped_inside_a_nested_object_is_text_and_passes() -> None:
    header, rows = table_of([GOOD | {"extra": {"k": "a\x00b"}}], SESSIONS)
    assert json.loads(rows[0][header.index("extra")] or "") == {"k": "a\x00b"}
