"""The embedding provider: e5 vectors with a trained classifier per dimension, in English and Ukrainian;
negation flips the polarity e5 alone hardly sees; the shipped weights match their metadata; bad input is
not evidenced rather than an error; `teei eval q2q --provider embedding` keeps the contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
from typer.testing import CliRunner

from teei.cli.main import app
from teei.outcomes.embedding import (
    EMBEDDING_DIM,
    MODEL_ID,
    MODEL_VERSION,
    EmbeddingProvider,
    WeightsFileError,
    embed_sentences,
    embedding_provider,
    file_sha256,
    load_weights,
    weights_paths,
)
from teei.outcomes.providers import evidenced
from teei.outcomes.registry import PROVIDERS
from teei.outcomes.taxonomy import LANGUAGES, POLARITIES, TAXONOMY_FILE, load_taxonomy
from teei.platform.packaged_files import package_dir
from teei.platform.settings import Settings

LABELLED = Path(__file__).parents[1] / "fixtures" / "q2q" / "labelled.jsonl"


@pytest.fixture(scope="session")
def provider() -> EmbeddingProvider:
    # The e5 model and the weights load once for the session.
    return embedding_provider()


def read(provider: EmbeddingProvider, texts: list[str]) -> list[dict[str, str]]:
    scores = provider.score_texts(texts, ["en"] * len(texts))
    return [dict(evidenced(found, provider.threshold)) for found in scores]


def test_the_taxonomy_examples_read_as_their_polarity(provider: EmbeddingProvider) -> None:
    # They are part of what the classifier was trained on: a floor, not a measure of quality.
    cases = [
        (name, polarity, text)
        for name, dimension in load_taxonomy().dimensions.items()
        for polarity in POLARITIES
        for language in LANGUAGES
        for text in getattr(dimension.examples, polarity)[language]
    ]
    found = read(provider, [text for _, _, text in cases])
    assert [labels.get(name) for (name, _, _), labels in zip(cases, found, strict=True)] == [p for _, p, _ in cases]


@pytest.mark.parametrize(
    ("plain", "negated", "dimension"),
    [
        ("I feel confident.", "I don't feel confident.", "confidence"),
        ("I have friends here.", "I have no friends here.", "belonging"),
        ("Я почуваюся впевнено.", "Я не почуваюся впевнено.", "confidence"),
        ("Я вже розумію норвезьку.", "Я не розумію норвезьку.", "lang_level_proxy"),
    ],
)
def test_a_negation_flips_the_polarity(provider: EmbeddingProvider, plain: str, negated: str, dimension: str) -> None:
    vectors = embed_sentences([plain, negated])
    # e5 alone hardly tells them apart: the rules' negation features do
    assert float(vectors[0] @ vectors[1]) > 0.85
    assert [labels.get(dimension) for labels in read(provider, [plain, negated])] == ["positive", "negative"]


def test_texts_about_nothing_and_broken_texts_evidence_nothing(provider: EmbeddingProvider) -> None:
    texts = ["", "   \n", "😀😀😀", "a\x00b\x07", "\udcff\udc80", "Nothing to report this week.", "Ми ходили в музей."]
    assert read(provider, texts) == [{}] * len(texts)


def test_the_evidence_is_the_sentence_that_supports_the_score(provider: EmbeddingProvider) -> None:
    text = "We met twice on Tuesday. I feel much more confident speaking at work now. See you next week!"
    scores = provider.score_texts([text], ["en"])[0]
    assert scores["confidence"].score >= 0.5
    assert scores["confidence"].evidence == "I feel much more confident speaking at work now."
    assert scores["confidence"].confidence >= provider.threshold


def test_sentence_vectors_are_384_d_unit_vectors_and_similar_meanings_are_close() -> None:
    vectors = embed_sentences(["I found a job.", "Я знайшла роботу.", "The weather is cold."])
    assert vectors.shape == (3, EMBEDDING_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert embed_sentences([]).shape == (0, EMBEDDING_DIM)


def test_the_weights_file_matches_its_metadata(provider: EmbeddingProvider) -> None:
    weights_path, metadata_path = weights_paths()
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    assert metadata["weights_sha256"] == file_sha256(weights_path)
    assert (metadata["model_id"], metadata["version"]) == (MODEL_ID, MODEL_VERSION)
    assert metadata["taxonomy_version"] == load_taxonomy().version
    assert metadata["encoder"]["model"] == "intfloat/multilingual-e5-small"
    assert set(metadata["dev_macro_f1"]) == {"overall", "en", "uk"}
    weights = load_weights()
    assert weights.coef.shape == (5, 3, EMBEDDING_DIM + 5)
    assert (provider.name, provider.model_id, provider.model_version) == ("embedding", MODEL_ID, MODEL_VERSION)
    assert provider.threshold == metadata["threshold"]


def test_the_weights_were_trained_on_the_committed_labelled_set_and_taxonomy() -> None:
    # A changed labelled set or taxonomy needs `python -m teei.devtools.train_q2q` (and a new version).
    training = json.loads(weights_paths()[1].read_text(encoding="utf-8"))["training"]
    assert training["labels_file_sha256"] == file_sha256(LABELLED)
    assert training["taxonomy_sha256"] == file_sha256(package_dir("teei.outcomes") / TAXONOMY_FILE)


def test_a_weights_file_that_drifted_from_its_metadata_is_refused(tmp_path: Path) -> None:
    for path in weights_paths():
        shutil.copy(path, tmp_path / path.name)
    weights_path, _ = weights_paths(folder=tmp_path)
    data = bytearray(weights_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights_path.write_bytes(bytes(data))
    with pytest.raises(WeightsFileError, match="SHA-256"):
        load_weights(folder=tmp_path)
    with pytest.raises(WeightsFileError, match="no embedding weights"):
        load_weights("0.0", folder=tmp_path)


def test_every_provider_the_setting_names_exists() -> None:
    assert set(get_args(Settings.model_fields["q2q_provider"].annotation)) == set(PROVIDERS)


def test_the_eval_command_with_the_embedding_provider(tmp_path: Path, provider: EmbeddingProvider) -> None:
    labels = tmp_path / "labels.jsonl"
    lines = [
        {"id": "a", "lang": "en", "text": "I don't feel confident at all.", "labels": {"confidence": "negative"}},
        {"id": "b", "lang": "uk", "text": "Ми стали друзями!", "labels": {"belonging": "positive"}},
        {"id": "c", "lang": "uk", "text": "Заняття перенесли на четвер.", "labels": {}},
    ]
    labels.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    out, predictions = tmp_path / "figures.json", tmp_path / "predictions.jsonl"
    args = ["eval", "q2q", "--labels", str(labels), "--provider", "embedding"]
    result = CliRunner().invoke(app, [*args, "--json", str(out), "--predictions", str(predictions)])
    assert result.exit_code == 0, result.output
    for scope in ("embedding · overall (3 texts)", "embedding · en (1 texts)", "embedding · uk (2 texts)"):
        assert scope in result.output
    document = json.loads(out.read_text())["providers"][0]
    assert (document["provider"], document["model_id"], document["model_version"]) == (
        "embedding", MODEL_ID, MODEL_VERSION,
    )  # fmt: skip
    assert document["threshold"] == provider.threshold
    assert document["scopes"]["overall"]["provider"]["macro_f1"] == 1.0
    assert [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines()] == [
        {"id": "a", "provider": "embedding", "labels": {"confidence": "negative"}},
        {"id": "b", "provider": "embedding", "labels": {"belonging": "positive"}},
        {"id": "c", "provider": "embedding", "labels": {}},
    ]
