"""The one interface every Q2Q provider implements, and what a provider's answer reads as."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from teei.outcomes.taxonomy import Language, Polarity

Reading = Literal["positive", "negative", "not_evidenced"]


@dataclass(frozen=True)
class DimensionScore:
    """A text's score in one dimension: 0–1 (≥ 0.5 positive), the provider's confidence in it (0–1) and
    the sentence that supports it."""

    dimension: str
    score: float
    confidence: float
    evidence: str


TextScores = dict[str, DimensionScore]


class OutcomeProvider(Protocol):
    """Scores texts in the taxonomy's dimensions. A dimension a text does not evidence is left out."""

    name: str
    model_id: str
    model_version: str
    # A score whose confidence is under this reads as not evidenced (docs/q2q.md).
    threshold: float

    def score_texts(self, texts: Sequence[str], languages: Sequence[Language]) -> list[TextScores]:
        """One dict of scores per text, by dimension, in the order of `texts`."""
        ...


def reading(score: DimensionScore | None, threshold: float) -> Reading:
    """What a provider's output for one dimension says: not evidenced (no score, or confidence under
    the threshold), positive (score ≥ 0.5) or negative."""
    if score is None or score.confidence < threshold:
        return "not_evidenced"
    return "positive" if score.score >= 0.5 else "negative"


def evidenced(scores: TextScores, threshold: float) -> dict[str, Polarity]:
    """The dimensions judged evidenced, with their polarity."""
    found: dict[str, Polarity] = {}
    for dimension, score in scores.items():
        value = reading(score, threshold)
        if value != "not_evidenced":
            found[dimension] = value
    return found
