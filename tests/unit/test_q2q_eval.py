"""`teei eval q2q`: the contract's figures (ten classes, macro-F1, majority baseline, per language and
overall) and its predictions file, read from what the command prints and writes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from teei.cli.main import app
from teei.outcomes.evaluation import CLASSES, figures, majority_baseline

LABELLED = Path(__file__).parents[1] / "fixtures" / "q2q" / "labelled.jsonl"


def write(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


def test_the_project_set_is_large_bilingual_and_split_once() -> None:
    lines = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    assert len(lines) >= 400
    assert {line["lang"] for line in lines} == {"en", "uk"}
    assert {line["split"] for line in lines} == {"train", "dev", "test"}
    assert len({line["id"] for line in lines}) == len(lines)
    assert sum(1 for line in lines if not line["labels"]) >= 60  # texts evidencing nothing


def test_figures_by_hand() -> None:
    gold = [{"confidence": "positive"}, {"confidence": "negative"}, {}, {"well_being": "positive"}]
    made = [{"confidence": "positive"}, {"confidence": "positive"}, {"belonging": "negative"}, {}]
    result = figures(gold, made)  # type: ignore[arg-type]
    assert vars(result.classes["confidence:positive"]) == {
        "precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1, "predicted": 2,
    }  # fmt: skip
    # four classes with support or predictions: 0.6667, 0 (confidence:negative), 0 (belonging), 0 (well_being)
    assert result.macro_f1 == round(0.6667 / 4, 4)
    assert majority_baseline(gold) == [{}, {}, {}, {}]  # type: ignore[arg-type]


def test_the_command_prints_every_class_per_language_and_writes_json_and_predictions(tmp_path: Path) -> None:
    labels = write(
        tmp_path / "labels.jsonl",
        [
            {"id": "a", "lang": "en", "text": "I don't feel confident at all.", "labels": {"confidence": "negative"}},
            {"id": "b", "lang": "uk", "text": "Ми стали друзями!", "labels": {"belonging": "positive"}},
            {"id": "c", "lang": "uk", "text": "Заняття перенесли на четвер.", "labels": {}},
        ],
    )
    out, predictions = tmp_path / "figures.json", tmp_path / "predictions.jsonl"
    args = ["eval", "q2q", "--labels", str(labels), "--provider", "rules"]
    result = CliRunner().invoke(app, [*args, "--json", str(out), "--predictions", str(predictions)])
    assert result.exit_code == 0, result.output
    for scope in ("rules · overall (3 texts)", "rules · en (1 texts)", "rules · uk (2 texts)"):
        assert scope in result.output
    assert all(name in result.output for name in CLASSES)
    document = json.loads(out.read_text())["providers"][0]
    assert document["provider"] == "rules"
    assert document["scopes"]["overall"]["provider"]["macro_f1"] == 1.0
    assert document["scopes"]["overall"]["baseline"]["macro_f1"] == 0.0
    lines = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines()]
    assert lines == [
        {"id": "a", "provider": "rules", "labels": {"confidence": "negative"}},
        {"id": "b", "provider": "rules", "labels": {"belonging": "positive"}},
        {"id": "c", "provider": "rules", "labels": {}},
    ]


def test_a_broken_labelled_file_is_refused_with_its_line(tmp_path: Path) -> None:
    labels = write(tmp_path / "bad.jsonl", [{"id": "a", "lang": "en", "text": "x", "labels": {"joy": "positive"}}])
    result = CliRunner().invoke(app, ["eval", "q2q", "--labels", str(labels)])
    assert result.exit_code == 2
    assert "bad.jsonl:1: unknown dimension joy" in result.output


def test_the_rules_provider_is_well_above_the_baseline_on_the_test_split(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    args = ["eval", "q2q", "--labels", str(LABELLED), "--split", "test", "--provider", "rules", "--json", str(out)]
    assert CliRunner().invoke(app, args).exit_code == 0
    scopes = json.loads(out.read_text())["providers"][0]["scopes"]
    for scope in ("overall", "en", "uk"):
        assert scopes[scope]["provider"]["macro_f1"] >= scopes[scope]["baseline"]["macro_f1"] + 0.4
