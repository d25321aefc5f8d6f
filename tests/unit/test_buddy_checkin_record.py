"""BuddyCheckinRecord: the answers to the check-in questions are a JSON object or array, and what a
check-in row with anything else in that column is told."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from contracts.buddy import BuddyCheckinRecord

REQUIRED = {"checkin_id": "BC-1", "match_id": "BM-1", "checkin_date": "2026-10-01T10:00:00Z"}


def checkin(question_responses: Any) -> BuddyCheckinRecord:
    return BuddyCheckinRecord.model_validate({**REQUIRED, "question_responses": question_responses})


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ('{"feels_welcome": 4, "met_friends": true}', {"feels_welcome": 4, "met_friends": True}),
        ('[{"q": "settled in?", "a": "yes"}]', [{"q": "settled in?", "a": "yes"}]),
        ("{}", {}),
    ],
)
def test_answers_as_a_json_object_or_array_are_kept_as_that_document(text: str, kept: Any) -> None:
    assert checkin(text).question_responses == kept


@pytest.mark.parametrize(
    "text",
    [
        '{"feels_welcome": NaN}',  # Python's json reads NaN and Infinity; PostgreSQL's jsonb does not
        '{"feels_welcome": Infinity}',
        "4",  # JSON, but a bare number: not the answers to questions
        '"fine"',
        '{"feels_welcome": 4',  # cut off
        "feels welcome: 4",
    ],
)
def test_anything_else_is_refused_quoting_the_value(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        checkin(text)

    [error] = caught.value.errors(include_url=False)
    assert error["loc"] == ("question_responses",)
    assert error["msg"] == f"{text!r} is not a JSON object or array"


def test_an_empty_cell_is_no_answers() -> None:
    assert checkin(None).question_responses is None
