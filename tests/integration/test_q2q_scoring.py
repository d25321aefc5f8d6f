"""Q2Q scoring in a Dagster run against real PostgreSQL, on a generated export set built once: scores
and snippets written, a second run reads nothing, a changed text is read again, no personal data in any
stored snippet, bad texts recorded with their reasons, and a deliberate rescore."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import dagster as dg
import phonenumbers
import pytest
import sqlalchemy as sa

from orchestration.defs.outcomes import outcome_scores
from orchestration.resources import PlatformResource
from teei.devtools.generate import generate_exports
from teei.outcomes.scrub import PHONE_REGIONS, Person, name_parts
from teei.outcomes.text import text_sha256
from teei.platform.database import create_db_engine

pytestmark = pytest.mark.integration

KEY = "test-key"
SCALE, SEED = 30, 11
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Texts a source may carry that cannot be scored, by session, with the reason's kind the ledger keeps.
BAD_TEXTS = {
    "": "empty",
    "   \t  ": "empty",
    "🎉🎉👍": "no words",
    "I feel confident. " * 6000: "too long",
    "I feel confident\x01\x02 now": "control characters",
}
OTHER_LANGUAGE = "Det var en veldig fin dag, og jeg lærte mye om jobben"


def rows(engine: sa.Engine, query: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as db:
        return [dict(row) for row in db.execute(sa.text(query), params).mappings()]


def scalar(engine: sa.Engine, query: str, **params: Any) -> Any:
    with engine.connect() as db:
        return db.execute(sa.text(query), params).scalar_one()


@pytest.fixture(scope="module")
def built(make_database: Any, load_exports: Any, dbt: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A generated set loaded and built once, then some sessions' feedback rewritten to name their
    people (emails, phones, names in English and Ukrainian) and to be texts no provider can read."""
    url = make_database()
    folder = tmp_path_factory.mktemp("q2q-exports")
    manifest = generate_exports(folder, scale=SCALE, seed=SEED, messy=False)
    engine = create_db_engine(url)
    load_exports(engine, folder, manifest, pseudonym_key=KEY)
    dbt(url, "build")
    sessions = rows(
        engine,
        """
        SELECT sessions.session_id, identities.email
          FROM core.kintell_sessions AS sessions
          JOIN pii.user_identities AS identities ON identities.user_id = sessions.participant_user_id
         WHERE sessions.completed_at IS NOT NULL
         ORDER BY sessions.session_id LIMIT 12
        """,
    )
    texts = []
    for session in sessions[:4]:
        first, last = (part.capitalize() for part in session["email"].split("@")[0].split(".")[:2])
        texts.append(
            f"{first} {last} here: now I feel confident speaking at work, mail me at {session['email']} "
            "or call +47 412 34 567 or 067 123 4567, see https://example.com/me"
        )
    texts.append("Дякую, Олено Коваленко, тепер я почуваюся впевнено на роботі, мій номер 067 123 4567.")
    texts += [*BAD_TEXTS, OTHER_LANGUAGE]
    with engine.begin() as db:
        for session, text in zip(sessions, texts, strict=False):
            db.execute(
                sa.text("UPDATE core.kintell_sessions SET feedback_text = :text WHERE session_id = :id"),
                {"text": text, "id": session["session_id"]},
            )
    engine.dispose()
    dbt(url, "run", "--select", "texts")
    return url


@pytest.fixture
def copy(built: str, make_database: Any) -> Iterator[tuple[str, sa.Engine]]:
    url = make_database(template=str(sa.make_url(built).database))
    engine = create_db_engine(url)
    yield url, engine
    engine.dispose()


def materialize(url: str, rescore: bool = False) -> dict[str, Any]:
    """Run the asset in a Dagster run; returns its materialization's metadata values."""
    result = dg.materialize(
        [outcome_scores],
        resources={"platform": PlatformResource(database_url=url)},
        run_config={"ops": {"core__outcome_scores": {"config": {"rescore": rescore}}}},
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("core__outcome_scores")
    return {name: value.value for name, value in materialization.metadata.items()}


def test_a_run_scores_every_text_once_and_a_second_run_reads_nothing(copy: tuple[str, sa.Engine]) -> None:
    url, engine = copy
    texts = scalar(engine, "SELECT count(*) FROM core.texts")

    first = materialize(url)

    assert first["texts_scored"] + first["texts_unscorable"] + first["texts_other_language"] == texts
    assert first["texts_unchanged"] == 0
    assert first["texts_unscorable"] >= len(BAD_TEXTS)
    assert first["texts_other_language"] >= 1
    scores = rows(engine, "SELECT * FROM core.outcome_scores")
    assert len(scores) == first["scores_written"] > 0
    assert {row["provider"] for row in scores} == {"rules"}
    assert all(0 <= row["score"] <= 1 and 0 <= row["confidence"] <= 1 for row in scores)
    assert all(row["text_id"] == f"{row['source_table']}:{row['source_id']}" for row in scores)
    assert scalar(engine, "SELECT count(*) FROM core.evidence_snippets") == first["snippets_written"] > 0
    # every score's hash is its text's, and every hash read is in the ledger once per version
    assert not rows(
        engine,
        "SELECT * FROM core.outcome_scores s JOIN core.texts t USING (text_id) WHERE s.text_sha256 <> t.text_sha256",
    )
    assert scalar(engine, "SELECT count(DISTINCT text_sha256) FROM core.texts") == scalar(
        engine, "SELECT count(*) FROM ops.q2q_scored_texts"
    )

    second = materialize(url)

    assert second["texts_scored"] == second["texts_unscorable"] == second["scores_written"] == 0
    assert second["texts_unchanged"] == texts
    assert len(rows(engine, "SELECT * FROM core.outcome_scores")) == len(scores)


def test_a_changed_text_is_scored_again_and_replaces_its_scores(copy: tuple[str, sa.Engine], dbt: Any) -> None:
    url, engine = copy
    materialize(url)
    session_id = scalar(
        engine,
        "SELECT source_id FROM core.outcome_scores WHERE source_table = 'kintell_sessions' ORDER BY 1 LIMIT 1",
    )
    new_text = "I feel lonely and isolated here, nobody talks to me."
    with engine.begin() as db:
        db.execute(
            sa.text("UPDATE core.kintell_sessions SET feedback_text = :text WHERE session_id = :id"),
            {"text": new_text, "id": session_id},
        )
    dbt(url, "run", "--select", "texts")

    again = materialize(url)

    assert again["texts_scored"] == 1
    scored = rows(
        engine,
        "SELECT dimension, score, text_sha256 FROM core.outcome_scores WHERE text_id = :id",
        id=f"kintell_sessions:{session_id}",
    )
    assert scored and {row["text_sha256"] for row in scored} == {text_sha256(new_text)}
    assert {row["dimension"]: float(row["score"]) < 0.5 for row in scored}.get("belonging") is True


def test_no_stored_snippet_holds_an_email_a_phone_number_or_a_name_of_the_records_people(
    copy: tuple[str, sa.Engine],
) -> None:
    url, engine = copy
    materialize(url)
    snippets = rows(
        engine,
        """
        SELECT snippets.snippet, snippets.snippet_sha256,
               array_remove(ARRAY[texts.author_user_id, texts.subject_user_id, texts.participant_user_id], NULL)
                   AS people
          FROM core.evidence_snippets AS snippets
          JOIN core.texts AS texts USING (text_id)
        """,
    )
    identities = {
        row["user_id"]: Person(email=row["email"], display_name=row["display_name"])
        for row in rows(engine, "SELECT user_id, email, display_name FROM pii.user_identities")
    }
    assert snippets
    placeholders = " ".join(row["snippet"] for row in snippets)
    assert {"[email]", "[phone]", "[url]", "[name]"} <= set(re.findall(r"\[\w+\]", placeholders))
    for row in snippets:
        snippet = row["snippet"]
        assert not EMAIL.search(snippet), snippet
        assert "http" not in snippet and "example.com" not in snippet, snippet
        for region in PHONE_REGIONS:
            assert not list(phonenumbers.PhoneNumberMatcher(snippet, region)), snippet
        words = {word.lower() for word in re.findall(r"[^\W\d_]+", snippet)}
        names = name_parts(identities[user_id] for user_id in row["people"] if user_id in identities)
        assert not words & names, snippet
        assert "коваленко" not in words and "олено" not in words, snippet
        assert row["snippet_sha256"] == text_sha256(snippet)


def test_bad_texts_are_recorded_with_their_reasons_and_never_fail_the_run(copy: tuple[str, sa.Engine]) -> None:
    url, engine = copy

    metadata = materialize(url)

    ledger = {
        row["text_sha256"]: row
        for row in rows(engine, "SELECT text_sha256, status, reason FROM ops.q2q_scored_texts WHERE provider = 'rules'")
    }
    for text, kind in BAD_TEXTS.items():
        entry = ledger[text_sha256(text)]
        assert entry["status"] == "unscorable" and entry["reason"].startswith(kind), entry
    other = ledger[text_sha256(OTHER_LANGUAGE)]
    assert other["status"] == "other_language" and "other" in other["reason"]
    assert set(BAD_TEXTS.values()) <= set(metadata["unscorable_reasons"])
    bad_hashes = [text_sha256(text) for text in [*BAD_TEXTS, OTHER_LANGUAGE]]
    assert not rows(engine, "SELECT * FROM core.outcome_scores WHERE text_sha256 = ANY(:h)", h=bad_hashes)


def test_a_rescore_reads_every_text_again_under_the_current_versions(copy: tuple[str, sa.Engine]) -> None:
    url, engine = copy
    first = materialize(url)
    # As if the texts had been read under an older taxonomy: a normal run leaves them be, a rescore reads them.
    with engine.begin() as db:
        db.execute(sa.text("UPDATE ops.q2q_scored_texts SET taxonomy_version = 'older'"))
        db.execute(sa.text("UPDATE core.outcome_scores SET taxonomy_version = 'older'"))

    assert materialize(url)["texts_scored"] == 0
    rescored = materialize(url, rescore=True)

    assert rescored["texts_scored"] == first["texts_scored"]
    assert rescored["scores_written"] == first["scores_written"]
    assert {row["taxonomy_version"] for row in rows(engine, "SELECT taxonomy_version FROM core.outcome_scores")} == {
        first["taxonomy_version"]
    }


def test_scores_of_a_text_that_left_core_texts_are_deleted_with_their_snippets(copy: tuple[str, sa.Engine]) -> None:
    url, engine = copy
    materialize(url)
    text_id = scalar(engine, "SELECT text_id FROM core.evidence_snippets ORDER BY 1 LIMIT 1")
    with engine.begin() as db:
        db.execute(sa.text("DELETE FROM core.texts WHERE text_id = :id"), {"id": text_id})

    assert materialize(url)["texts_removed"] == 1
    assert not rows(engine, "SELECT * FROM core.outcome_scores WHERE text_id = :id", id=text_id)
    assert not rows(engine, "SELECT * FROM core.evidence_snippets WHERE text_id = :id", id=text_id)
