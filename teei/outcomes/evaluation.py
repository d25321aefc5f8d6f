"""The Q2Q evaluation contract: a labelled JSON Lines file in, per-class precision, recall and F1 out.

A line is `{"id", "lang": "en"|"uk", "text", "labels": {"<dimension>": "positive"|"negative"}}` (other
keys, such as the project set's `split`, are ignored; a dimension missing from `labels` is not evidenced).
The ten classes are dimension × polarity. For a class, a text is a true positive when both the label and
the provider's reading (teei.outcomes.providers.reading) say that dimension with that polarity. The
macro-F1 is the mean F1 of the classes with support or predictions in the scope (a class absent from a
scope both ways says nothing about it). The majority-class baseline gives every text, per dimension, the
reading most frequent in the scope's labels (almost always *not evidenced*, so its F1 is mostly 0).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from teei.outcomes.providers import OutcomeProvider, Reading, evidenced
from teei.outcomes.taxonomy import DIMENSIONS, LANGUAGES, POLARITIES, Language, Polarity

CLASSES = tuple(f"{dimension}:{polarity}" for dimension in DIMENSIONS for polarity in POLARITIES)
Labels = dict[str, Polarity]


class LabelledText(BaseModel):
    """One line of a labelled file."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    lang: Language
    text: str
    labels: dict[str, Polarity]
    split: str | None = None


class LabelledFileError(ValueError):
    """A labelled file that breaks the contract, with the line that does."""


def read_labelled(path: Path, split: str | None = None) -> list[LabelledText]:
    """The texts of a labelled file (only `split`'s, when given); refuses unknown dimensions and bad lines."""
    texts = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = LabelledText.model_validate_json(line)
        except ValidationError as exc:
            raise LabelledFileError(f"{path}:{number}: {exc.errors()[0]['msg']}") from exc
        unknown = set(item.labels) - set(DIMENSIONS)
        if unknown:
            raise LabelledFileError(f"{path}:{number}: unknown dimension {', '.join(sorted(unknown))}")
        if split is None or item.split == split:
            texts.append(item)
    if not texts:
        raise LabelledFileError(f"{path}: no labelled texts" + (f" in split {split!r}" if split else ""))
    return texts


def predict(provider: OutcomeProvider, texts: Sequence[LabelledText]) -> dict[str, Labels]:
    """The dimensions the provider judges evidenced, per text id."""
    scores = provider.score_texts([item.text for item in texts], [item.lang for item in texts])
    return {item.id: evidenced(found, provider.threshold) for item, found in zip(texts, scores, strict=True)}


@dataclass(frozen=True)
class ClassFigures:
    precision: float
    recall: float
    f1: float
    support: int
    predicted: int


@dataclass(frozen=True)
class Figures:
    """Per-class figures and their macro-F1 over one scope (overall or a language)."""

    classes: dict[str, ClassFigures]
    macro_f1: float
    texts: int


def figures(gold: Sequence[Labels], predicted: Sequence[Labels]) -> Figures:
    """Precision, recall, F1 and support per class, and the macro-F1."""
    classes = {}
    for name in CLASSES:
        dimension, polarity = name.split(":")
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g.get(dimension) == p.get(dimension) == polarity)
        support = sum(1 for g in gold if g.get(dimension) == polarity)
        made = sum(1 for p in predicted if p.get(dimension) == polarity)
        precision = tp / made if made else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        classes[name] = ClassFigures(round(precision, 4), round(recall, 4), round(f1, 4), support, made)
    counted = [c.f1 for c in classes.values() if c.support or c.predicted]
    macro = round(sum(counted) / len(counted), 4) if counted else 0.0
    return Figures(classes=classes, macro_f1=macro, texts=len(gold))


def majority_baseline(gold: Sequence[Labels]) -> list[Labels]:
    """Every text given, per dimension, the scope's most frequent reading."""
    majority: Labels = {}
    for dimension in DIMENSIONS:
        readings: Counter[Reading] = Counter(g.get(dimension, "not_evidenced") for g in gold)
        most, _ = max(readings.items(), key=lambda item: (item[1], item[0] == "not_evidenced"))
        if most != "not_evidenced":
            majority[dimension] = most
    return [dict(majority) for _ in gold]


def scopes(texts: Sequence[LabelledText]) -> dict[str, list[int]]:
    """Indexes of the texts of each scope: overall, then each language present."""
    found = {"overall": list(range(len(texts)))}
    for language in LANGUAGES:
        indexes = [i for i, item in enumerate(texts) if item.lang == language]
        if indexes:
            found[language] = indexes
    return found


def evaluate(texts: Sequence[LabelledText], predictions: Mapping[str, Labels]) -> dict[str, dict[str, Figures]]:
    """For each scope: the provider's figures and the majority baseline's."""
    report = {}
    for scope, indexes in scopes(texts).items():
        gold = [dict(texts[i].labels) for i in indexes]
        made = [predictions[texts[i].id] for i in indexes]
        report[scope] = {"provider": figures(gold, made), "baseline": figures(gold, majority_baseline(gold))}
    return report


def render(provider: str, report: Mapping[str, Mapping[str, Figures]]) -> str:
    """The report as text: a table per scope, the baseline beside the provider."""
    lines = []
    for scope, both in report.items():
        ours, base = both["provider"], both["baseline"]
        lines.append(f"{provider} · {scope} ({ours.texts} texts)")
        lines.append(f"  {'class':<28}{'P':>7}{'R':>7}{'F1':>7}{'support':>9}   {'baseline F1':>11}")
        for name in CLASSES:
            c, b = ours.classes[name], base.classes[name]
            lines.append(f"  {name:<28}{c.precision:>7.3f}{c.recall:>7.3f}{c.f1:>7.3f}{c.support:>9}   {b.f1:>11.3f}")
        lines.append(f"  {'macro-F1':<28}{'':>14}{ours.macro_f1:>7.3f}{'':>9}   {base.macro_f1:>11.3f}")
        lines.append("")
    return "\n".join(lines)


def as_json(provider: OutcomeProvider, report: Mapping[str, Mapping[str, Figures]]) -> dict[str, Any]:
    """The report as a JSON document."""

    def one(f: Figures) -> dict[str, Any]:
        return {"texts": f.texts, "macro_f1": f.macro_f1, "classes": {k: vars(v) for k, v in f.classes.items()}}

    return {
        "provider": provider.name,
        "model_id": provider.model_id,
        "model_version": provider.model_version,
        "threshold": provider.threshold,
        "scopes": {scope: {kind: one(f) for kind, f in both.items()} for scope, both in report.items()},
    }


def prediction_lines(provider: str, texts: Iterable[LabelledText], predictions: Mapping[str, Labels]) -> list[str]:
    """One JSON line per text: `{"id", "provider", "labels"}` with the dimensions judged evidenced."""
    return [
        json.dumps({"id": item.id, "provider": provider, "labels": predictions[item.id]}, ensure_ascii=False)
        for item in texts
    ]
