"""The `rules` provider: deterministic cue matching with negation, contrast, hedges and intensifiers.

Each sentence is split into words with every lemma of each word (teei.outcomes.language). A cue of the
taxonomy matches when each of its words shares a lemma with a word of the sentence, in order, with at
most two words between; longer cues win over the shorter ones inside them. A cue is negated when a
negator sits before it within the taxonomy's window, with no punctuation or contrast word between
(phrases such as "not only", "не лише", "без проблем" are no negators). Hits after a contrast word weigh
more than hits before one ("hard, but it helps"). Hedges lower a hit's confidence, intensifiers raise it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from teei.outcomes.language import CLAUSE_PUNCTUATION, Token, lemmas, normalise_word, split_sentences, tokenize
from teei.outcomes.providers import DimensionScore, TextScores
from teei.outcomes.taxonomy import DIMENSIONS, LANGUAGES, POLARITIES, Language, Polarity, Taxonomy, load_taxonomy

MAX_GAP = 2
# Letters a misspelt word may differ by from a cue word (one edit) and the shortest cue word it applies to:
# shorter words have too many one-edit neighbours ("better", "letter").
TYPO_MIN_LENGTH = 7
AFTER_CONTRAST_WEIGHT, BEFORE_CONTRAST_WEIGHT = 1.5, 0.75
HEDGE_PENALTY, INTENSIFIER_BONUS = 0.15, 0.1
NEGATIVE_CUE_WEIGHT = 1.25
# Features per dimension for the embedding provider: positive and negative weight, negated hits, hedged
# and intensified hits.
FEATURES_PER_DIMENSION = 5


def _phrase(text: str) -> tuple[frozenset[str], ...]:
    return tuple(lemmas(normalise_word(word)) for word in _words(text))


def _words(text: str) -> list[str]:
    return [token.text for token in tokenize(text) if token.is_word]


@dataclass(frozen=True)
class Cue:
    dimension: str
    polarity: Polarity
    words: tuple[frozenset[str], ...]
    negative_inside: bool = False


@dataclass
class Hit:
    """One matched cue in one sentence."""

    dimension: str
    polarity: Polarity
    sentence: int
    weight: float
    negated: bool
    hedged: bool
    intensified: bool


@dataclass
class Analysis:
    """Every cue hit of a text, its sentences, and whether it had words at all."""

    sentences: list[str]
    hits: list[Hit] = field(default_factory=list)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class RulesProvider:
    """Lexicon and rules over the taxonomy's cues, English and Ukrainian."""

    name = "rules"
    model_id = "teei-rules"

    def __init__(self, taxonomy: Taxonomy | None = None, threshold: float = 0.3) -> None:
        self.taxonomy = taxonomy or load_taxonomy()
        self.model_version = self.taxonomy.version
        self.threshold = threshold
        # Both languages' lexicons for every text: the script of each word picks its lemmatiser, and
        # a text mixing English and Ukrainian is common.
        cues = [
            Cue(dimension, polarity, _phrase(text))
            for dimension, definition in self.taxonomy.dimensions.items()
            for language in LANGUAGES
            for polarity in POLARITIES
            for text in getattr(definition.cues[language], polarity)
        ]
        self.negators = {normalise_word(w) for lang in LANGUAGES for w in self.taxonomy.negation_for(lang).negators}
        cues = [
            Cue(cue.dimension, cue.polarity, cue.words, any(self._is_negator(w) for words in cue.words for w in words))
            for cue in cues
        ]
        self.cues = sorted((cue for cue in cues if cue.words), key=lambda cue: -len(cue.words))
        self.not_negations = [_phrase(p) for lang in LANGUAGES for p in self.taxonomy.negation_for(lang).not_negations]
        self.contrast = {normalise_word(w) for lang in LANGUAGES for w in self.taxonomy.contrast[lang]}
        self.hedges = [_phrase(p) for lang in LANGUAGES for p in self.taxonomy.hedges[lang]]
        self.intensifiers = [_phrase(p) for lang in LANGUAGES for p in self.taxonomy.intensifiers[lang]]
        self._typo_index: dict[str, set[str]] = {}
        for cue in self.cues:
            for forms in cue.words:
                for form in forms:
                    if len(form) >= TYPO_MIN_LENGTH:
                        for variant in {form, *_deletes(form)}:
                            self._typo_index.setdefault(variant, set()).add(form)

    # --- reading a sentence ---------------------------------------------------------------------

    def _forms(self, token: Token) -> frozenset[str]:
        if not token.is_word or len(token.text) < TYPO_MIN_LENGTH - 1:
            return token.forms
        near: set[str] = set()
        for variant in {token.text, *_deletes(token.text)}:
            near |= self._typo_index.get(variant, set())
        return token.forms | near if near else token.forms

    @staticmethod
    def _find(phrase: tuple[frozenset[str], ...], forms: list[frozenset[str]], start: int, gap: int) -> int | None:
        """The index after the last word of `phrase` matched from `start`, or None."""
        if not phrase or not (forms[start] & phrase[0]):
            return None
        position = start + 1
        for word in phrase[1:]:
            for offset in range(gap + 1):
                if position + offset < len(forms) and forms[position + offset] & word:
                    position += offset + 1
                    break
            else:
                return None
        return position

    def _spans(self, phrases: list[tuple[frozenset[str], ...]], forms: list[frozenset[str]]) -> set[int]:
        covered: set[int] = set()
        for start in range(len(forms)):
            for phrase in phrases:
                end = self._find(phrase, forms, start, 0)
                if end is not None:
                    covered.update(range(start, end))
        return covered

    def analyse(self, text: str) -> Analysis:
        """Every cue hit of a text, sentence by sentence."""
        analysis = Analysis(sentences=split_sentences(text))
        window = self.taxonomy.negation.window
        for number, sentence in enumerate(analysis.sentences):
            tokens = tokenize(sentence)
            forms = [self._forms(token) for token in tokens]
            not_negation = self._spans(self.not_negations, forms)
            hedged = bool(self._spans(self.hedges, forms))
            intensified = bool(self._spans(self.intensifiers, forms))
            contrast_at = [i for i, token in enumerate(tokens) if token.text in self.contrast]
            used: set[int] = set()
            matches: list[tuple[int, Cue]] = []
            for cue in self.cues:
                for begin in range(len(tokens)):
                    if begin in used:
                        continue
                    stop = self._find(cue.words, forms, begin, MAX_GAP)
                    if stop is None or used & set(range(begin, stop)):
                        continue
                    used.update(range(begin, stop))
                    matches.append((begin, cue))
            # In reading order, a negator negates the first cue after it only ("can't follow when people
            # speak fast" negates follow, not speak fast).
            spent: set[int] = set()
            for begin, cue in sorted(matches, key=lambda match: match[0]):
                # A cue that carries its own negation ("не розуміти", "no friends") is not negated
                # again: Ukrainian negative concord ("нічого не розумію") negates once.
                negator = None if cue.negative_inside else self._negator_before(tokens, begin, window, not_negation)
                negated = negator is not None and negator not in spent
                if negator is not None:
                    spent.add(negator)
                # a longer cue is more specific than the single words it holds
                weight = len(cue.words) ** 0.5
                if contrast_at:
                    weight *= AFTER_CONTRAST_WEIGHT if begin > contrast_at[-1] else BEFORE_CONTRAST_WEIGHT
                if cue.polarity == "negative" and not negated:
                    # many positive cues are the dimension's topic words (job, application, language);
                    # a negative word beside them is the marked one
                    weight *= NEGATIVE_CUE_WEIGHT
                polarity: Polarity = cue.polarity
                if negated:
                    polarity = "negative" if cue.polarity == "positive" else "positive"
                analysis.hits.append(Hit(cue.dimension, polarity, number, weight, negated, hedged, intensified))
        return analysis

    def _is_negator(self, word: str) -> bool:
        return word in self.negators or word.endswith("n't")

    def _negator_before(self, tokens: list[Token], start: int, window: int, not_negation: set[int]) -> int | None:
        # Walk back from the cue: a negator within the window negates it; punctuation or a contrast
        # word ends the scope first.
        seen = 0
        for index in range(start - 1, -1, -1):
            token = tokens[index]
            if not token.is_word:
                if token.text in CLAUSE_PUNCTUATION:
                    return None
                continue
            if token.text in self.contrast:
                return None
            if index not in not_negation and self._is_negator(token.text):
                return index
            seen += 1
            if seen >= window:
                return None
        return None

    # --- scores and features --------------------------------------------------------------------

    def scores_from(self, analysis: Analysis) -> TextScores:
        """A score per dimension with hits: the weighted balance of positive and negative hits."""
        scores: TextScores = {}
        for dimension in DIMENSIONS:
            hits = [hit for hit in analysis.hits if hit.dimension == dimension]
            if not hits:
                continue
            positive = sum(hit.weight for hit in hits if hit.polarity == "positive")
            negative = sum(hit.weight for hit in hits if hit.polarity == "negative")
            if positive == negative:
                # a tie goes to the last hit: the end of a text is usually its conclusion
                score = 0.55 if hits[-1].polarity == "positive" else 0.45
            else:
                score = 0.5 + 0.5 * (positive - negative) / (positive + negative)
            winning: Polarity = "positive" if score >= 0.5 else "negative"
            best = max((hit for hit in hits if hit.polarity == winning), key=lambda hit: hit.weight)
            confidence = 0.55 + 0.1 * min(len(hits) - 1, 3)
            confidence += INTENSIFIER_BONUS * best.intensified - HEDGE_PENALTY * best.hedged
            confidence *= abs(positive - negative) / (positive + negative) * 0.5 + 0.5
            scores[dimension] = DimensionScore(
                dimension=dimension,
                score=round(min(max(score, 0.0), 1.0), 4),
                confidence=round(min(max(confidence, 0.05), 0.95), 4),
                evidence=analysis.sentences[best.sentence],
            )
        return scores

    def features(self, analysis: Analysis) -> np.ndarray:
        """The rules' reading of a text as numbers, for a trained classifier on top."""
        values = np.zeros(len(DIMENSIONS) * FEATURES_PER_DIMENSION, dtype=np.float32)
        for hit in analysis.hits:
            base = DIMENSIONS.index(hit.dimension) * FEATURES_PER_DIMENSION
            values[base + (0 if hit.polarity == "positive" else 1)] += hit.weight
            values[base + 2] += hit.negated
            values[base + 3] += hit.hedged
            values[base + 4] += hit.intensified
        return np.log1p(values)

    def score_texts(self, texts: Sequence[str], languages: Sequence[Language]) -> list[TextScores]:
        """Scores of each text (the language is not needed: each word's script picks its lemmatiser)."""
        return [self.scores_from(self.analyse(text)) for text in texts]


@cache
def rules_provider() -> RulesProvider:
    """The process's rules provider (building its cue index lemmatises the whole lexicon once)."""
    return RulesProvider()
