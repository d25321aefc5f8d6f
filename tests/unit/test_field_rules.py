"""The one reading of a record's rules (`contracts.fields.field_rules`) that the loader's SQL, the
generator and the docs share, and the rule table it points into."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from connectors.registry import ENTITIES
from contracts.field_kinds import FIELD_KINDS, Kind
from contracts.fields import Email, FieldRule, Rating, SourceRecord, WholeNumber, field_rules
from contracts.kintell import KintellSessionRecord


def test_a_record_reads_into_kinds_bounds_choices_and_whether_required() -> None:
    rules = {rule.name: rule for rule in field_rules(KintellSessionRecord)}

    assert [rule.kind for rule in rules.values()] == [
        Kind.TEXT, Kind.ENUM, Kind.EMAIL, Kind.EMAIL, Kind.TIMESTAMP, Kind.TIMESTAMP, Kind.TIMESTAMP,
        Kind.INTEGER, Kind.SCORE, Kind.TEXT, Kind.CEFR, Kind.TEXT_LIST,
    ]  # fmt: skip
    assert rules["session_type"].choices == ("language", "mentorship")
    assert (rules["duration_minutes"].low, rules["duration_minutes"].high) == (1.0, 480.0)
    assert rules["session_id"].required and not rules["topics"].required


def test_nested_annotated_optional_and_unions_are_walked_to_the_bottom() -> None:
    class Nested(SourceRecord):
        count: Annotated[Annotated[WholeNumber, Field(ge=2)], Field(le=9)] | None = None
        choice: Literal["a"] | Literal["b"] | None = None
        either: Email | Rating

    rules = field_rules(Nested)

    assert rules == [
        FieldRule("count", FIELD_KINDS[Kind.INTEGER], False, (), 2.0, 9.0),
        FieldRule("choice", FIELD_KINDS[Kind.ENUM], False, ("a", "b")),
        FieldRule("either", FIELD_KINDS[Kind.EMAIL], True),
    ]


def test_a_field_no_rule_can_check_is_refused() -> None:
    class Unchecked(BaseModel):
        anything: str

    with pytest.raises(TypeError, match=r"Unchecked\.anything"):
        field_rules(Unchecked)


def test_every_field_of_every_entity_has_a_kind_of_the_table() -> None:
    for spec in ENTITIES.values():
        for rule in field_rules(spec.record):
            assert FIELD_KINDS[rule.kind] is rule.field_kind
            if rule.field_kind.parse is not None and rule.kind != Kind.JSON:
                assert rule.field_kind.pattern is not None  # the one pattern Python and SQL both read
