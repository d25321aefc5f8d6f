"""The Q2Q taxonomy (teei/outcomes/taxonomy.yaml): outcome dimensions, their cues, negation, hedges."""

from __future__ import annotations

from functools import cache
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from teei.platform.packaged_files import package_dir

Language = Literal["en", "uk"]
Polarity = Literal["positive", "negative"]
LANGUAGES: tuple[Language, ...] = ("en", "uk")
POLARITIES: tuple[Polarity, ...] = ("positive", "negative")
# The dimensions core.outcome_scores accepts (its check constraint, migration 0003).
DIMENSIONS = ("confidence", "belonging", "lang_level_proxy", "job_readiness", "well_being")
TAXONOMY_FILE = "taxonomy.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cues(_Strict):
    """Cue phrases of one language, by the polarity they evidence."""

    positive: tuple[str, ...]
    negative: tuple[str, ...]


class SroiOutcome(_Strict):
    """The SROI outcome a dimension feeds: its dimension in seeds/sroi_outcome_assumptions.csv."""

    dimension: str
    outcome: str


class Examples(_Strict):
    positive: dict[Language, tuple[str, ...]]
    negative: dict[Language, tuple[str, ...]]


class Dimension(_Strict):
    """One outcome dimension: what it means, examples, the SROI outcome it feeds and its cues."""

    definition: str
    sroi_outcome: SroiOutcome
    examples: Examples
    cues: dict[Language, Cues]


class Negation(_Strict):
    negators: tuple[str, ...]
    not_negations: tuple[str, ...]


class NegationRules(_Strict):
    window: int = Field(ge=1, le=10)
    en: Negation
    uk: Negation


class Taxonomy(_Strict):
    """The whole taxonomy file; its `version` is stored with every score."""

    version: str
    negation: NegationRules
    contrast: dict[Language, tuple[str, ...]]
    hedges: dict[Language, tuple[str, ...]]
    intensifiers: dict[Language, tuple[str, ...]]
    dimensions: dict[str, Dimension]

    @model_validator(mode="after")
    def _every_dimension_in_both_languages(self) -> Taxonomy:
        if tuple(self.dimensions) != DIMENSIONS:
            raise ValueError(f"the taxonomy's dimensions must be {', '.join(DIMENSIONS)} in that order")
        for name, dimension in self.dimensions.items():
            for language in LANGUAGES:
                cues = dimension.cues.get(language)
                if cues is None or not cues.positive or not cues.negative:
                    raise ValueError(f"{name}: positive and negative cues in {language} are required")
        return self

    def negation_for(self, language: Language) -> Negation:
        """The negators and their look-alikes of one language."""
        return self.negation.en if language == "en" else self.negation.uk


def parse_taxonomy(text: str) -> Taxonomy:
    """A taxonomy from YAML text; refuses one that misses a dimension, a language or a polarity."""
    return Taxonomy.model_validate(yaml.safe_load(text))


@cache
def load_taxonomy() -> Taxonomy:
    """The taxonomy shipped in the package."""
    path = package_dir("teei.outcomes") / TAXONOMY_FILE
    return parse_taxonomy(path.read_text(encoding="utf-8"))
