"""The rules provider in English and Ukrainian: lemmas of every parse, negation scopes, look-alike negations,
contrast, hedges and intensifiers, misspellings, and the taxonomy's own examples."""

from __future__ import annotations

import pytest

from teei.outcomes.language import lemmas, split_sentences
from teei.outcomes.providers import evidenced
from teei.outcomes.rules import rules_provider
from teei.outcomes.taxonomy import LANGUAGES, POLARITIES, load_taxonomy


def read(text: str) -> dict[str, str]:
    provider = rules_provider()
    return dict(evidenced(provider.score_texts([text], ["en"])[0], provider.threshold))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I feel much more confident now.", {"confidence": "positive"}),
        ("I don't feel confident yet.", {"confidence": "negative"}),
        ("I am not afraid to call the doctor any more.", {"confidence": "positive"}),
        ("Never felt so lonely.", {"belonging": "negative"}),
        ("Not only did I make friends, I feel at home here.", {"belonging": "positive"}),
        ("It was not easy, but I feel calmer now.", {"well_being": "positive"}),
        # the scope ends at the comma: "happy" is not negated
        ("No job yet, happy anyway.", {"job_readiness": "negative", "well_being": "positive"}),
        ("Я почуваюся впевнено.", {"confidence": "positive"}),
        ("Я не почуваюся впевнено.", {"confidence": "negative"}),
        # a lexicalised negative is its own entry, not a negation of впевнений
        ("Я досі невпевнена в собі.", {"confidence": "negative"}),
        ("Мені не лише цікаво, я стала впевненішою.", {"confidence": "positive"}),
        # "без проблем" is no negation of what follows
        ("Без проблем знайшла роботу!", {"job_readiness": "positive"}),
        # the contrast word ends the scope of "не"
        ("Не було легко, але тепер маю друзів.", {"belonging": "positive"}),
        ("Мені самотньо, ніхто не говорить зі мною.", {"belonging": "negative"}),
        # a misspelt cue still matches
        ("I feel confidnet now", {"confidence": "positive"}),
        ("Nothing to report this week.", {}),
        ("Ми ходили в музей.", {}),
    ],
)
def test_cases_read_as_a_person_would(text: str, expected: dict[str, str]) -> None:
    assert read(text) == expected


def test_every_parse_counts_not_only_the_first() -> None:
    # pymorphy3's first parse of "роботу" is "робот" (a robot); the job is the third
    assert {"робот", "робота"} <= lemmas("роботу")
    assert read("Шукаю роботу.") == {"job_readiness": "positive"}


def test_hedges_lower_and_intensifiers_raise_the_confidence() -> None:
    provider = rules_provider()
    plain, hedged, strong = (
        provider.score_texts([text], ["en"])[0]["confidence"]
        for text in ("I feel confident.", "Maybe I feel a bit confident.", "I feel really confident.")
    )
    assert hedged.confidence < plain.confidence < strong.confidence
    assert hedged.score >= 0.5 and strong.score >= 0.5


def test_the_evidence_is_the_sentence_that_supports_the_score() -> None:
    scores = rules_provider().score_texts(["We met twice. I feel more confident at work. See you!"], ["en"])[0]
    assert scores["confidence"].evidence == "I feel more confident at work."
    assert split_sentences("One.\nTwo! Три? Чотири") == ["One.", "Two!", "Три?", "Чотири"]


def test_the_taxonomy_examples_read_as_their_polarity() -> None:
    for name, dimension in load_taxonomy().dimensions.items():
        for polarity in POLARITIES:
            for language in LANGUAGES:
                for text in getattr(dimension.examples, polarity)[language]:
                    assert read(text).get(name) == polarity, (name, polarity, text)
