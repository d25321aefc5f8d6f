"""The evidence scrubber: emails, phone numbers, URLs and names become placeholders, while dates, scores,
places and ordinary words stay; and the reasons a text cannot be scored."""

from __future__ import annotations

import pytest

from teei.outcomes.scoring import MAX_TEXT_CHARS, reason_kind, unscorable_reason
from teei.outcomes.scrub import Person, name_parts, scrub_personal_data

PEOPLE = [
    Person(email="olena.kovalenko@example.com"),
    Person(email="ingrid.bakke@firm.no", display_name="Ingrid Bakke"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail olena.kovalenko@example.com today", "mail [email] today"),
        ("call +47 412 34 567 please", "call [phone] please"),
        ("мій номер 067 123 4567", "мій номер [phone]"),
        ("ring 07911 123456 or (212) 555-0100", "ring [phone] or [phone]"),
        ("see https://example.com/a?b=1 and www.kintell.no", "see [url] and [url]"),
        ("Olena and INGRID helped, thanks bakke", "[name] and [name] helped, thanks [name]"),
        ("Дякую Олені Коваленко за допомогу.", "Дякую [name] за допомогу."),
        ("Тарас Шевченко та Іванівна були поруч", "[name] та [name] були поруч"),
    ],
)
def test_personal_data_becomes_placeholders(text: str, expected: str) -> None:
    assert scrub_personal_data(text, PEOPLE) == expected


@pytest.mark.parametrize(
    "text",
    [
        "We met on 12.03.2026 at 10:30, score 4/5, 15 minutes, session 20261203",
        "Я дякую. В Осло добре, Київ красивий.",
        "Мені стало краще, я читаю роман і маю надію",
        "I feel more confident at work now",
    ],
)
def test_dates_scores_places_and_ordinary_words_stay(text: str) -> None:
    assert scrub_personal_data(text, PEOPLE) == text


def test_a_sentence_initial_word_that_can_be_a_first_name_goes_but_a_pronoun_stays() -> None:
    assert scrub_personal_data("Олена допомогла мені. Мені легше.") == "[name] допомогла мені. Мені легше."


def test_the_records_people_are_named_by_their_email_and_display_name_parts() -> None:
    assert name_parts(PEOPLE) == {"olena", "kovalenko", "ingrid", "bakke"}
    assert name_parts([Person(email="al.li@x.no")]) == frozenset()  # too short to remove everywhere


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "empty"),
        (" \t\n ", "empty"),
        ("🎉🎉 👍", "no words"),
        ("12345 !!!", "no words"),
        ("x" * (MAX_TEXT_CHARS + 1), "too long"),
        ("fine\x00text", "control characters"),
        ("fine\x1btext", "control characters"),
        ("broken \udc80 text", "broken text"),
    ],
)
def test_texts_that_cannot_be_scored_say_why(text: str, kind: str) -> None:
    reason = unscorable_reason(text)
    assert reason is not None and reason_kind(reason) == kind


def test_ordinary_texts_with_tabs_and_line_breaks_can_be_scored() -> None:
    assert unscorable_reason("I feel better\nМені краще\tтеж") is None
