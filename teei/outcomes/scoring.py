"""Scoring core.texts into core.outcome_scores and core.evidence_snippets, incrementally by text hash.

The ledger ops.q2q_scored_texts records every text hash a provider has read, keyed by (hash, provider,
model version, taxonomy version), with its status: `scored`, `other_language` (not en or uk: recorded,
not evidenced) or `unscorable` (with the reason). A run reads, set-based, only the texts that need it:

- a text whose hash the provider never read (a new text, or one whose words changed);
- a text whose hash was read and evidenced something, but whose record holds no score of that hash
  (a second record with the same words: its scores are written too).

An unchanged text is never read again. A new model or taxonomy version does not rescore what was read
under an older one unless asked (`rescore=True`: the asset's `rescore` config, `teei q2q rescore`): then
texts are looked up in the ledger under the current versions only, so every text is read once more.

Texts are scored in batches; each batch's scores, snippets and ledger rows are written with
executemany in one transaction, so a run cut off keeps every batch it finished. Scores and snippets of
texts that have left core.texts (an erased person) are deleted.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from teei.outcomes.providers import OutcomeProvider, TextScores, evidenced
from teei.outcomes.scrub import Person, scrub_personal_data
from teei.outcomes.taxonomy import Language
from teei.outcomes.text import normalise_text, text_sha256

# Longer texts are not read: no feedback form gives this much, so it is a paste or an export fault,
# and the rules provider's cost grows with it.
MAX_TEXT_CHARS = 10_000
BATCH_SIZE = 500
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


@dataclass
class ScoringReport:
    """What a scoring run did, as the asset's metadata and `teei q2q rescore` show it."""

    texts_scored: int = 0
    texts_unchanged: int = 0
    texts_unscorable: int = 0
    texts_other_language: int = 0
    scores_written: int = 0
    snippets_written: int = 0
    texts_removed: int = 0
    unscorable_reasons: dict[str, int] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "texts_scored": self.texts_scored,
            "texts_unchanged": self.texts_unchanged,
            "texts_unscorable": self.texts_unscorable,
            "texts_other_language": self.texts_other_language,
            "scores_written": self.scores_written,
            "snippets_written": self.snippets_written,
            "texts_removed": self.texts_removed,
            "unscorable_reasons": dict(sorted(self.unscorable_reasons.items())),
        }


def unscorable_reason(text: str) -> str | None:
    """Why a text cannot be scored, or None when it can. The reason's first words are its kind."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "broken text: lone surrogate code points"
    # Whitespace alone normalises to the empty text: one hash, so one reason.
    if not normalise_text(text):
        return "empty: no text, or only whitespace"
    if len(text) > MAX_TEXT_CHARS:
        return f"too long: {len(text)} characters (at most {MAX_TEXT_CHARS})"
    controls = {char for char in text if unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS}
    if controls:
        codes = ", ".join(f"U+{ord(char):04X}" for char in sorted(controls))
        return f"control characters: {codes}"
    if not any(char.isalpha() for char in text):
        return "no words: only symbols, digits or emoji"
    return None


def reason_kind(reason: str) -> str:
    """The kind of a reason (its words before a colon), for counting."""
    return reason.split(":", 1)[0]


@dataclass(frozen=True)
class PendingText:
    text_id: str
    source_table: str
    source_id: str
    participant_user_id: str | None
    text: str
    language: str
    text_sha256: str
    people: tuple[str, ...]


# The texts to read (see the module's docstring), with every person on the record: the author, the
# subject, the participant and the other side of the record (the session's volunteer, the match's
# buddy), whose names the scrubber removes. `:rescore` looks the ledger up under the current versions only.
_PENDING = sa.text(
    """
    WITH ledger AS (
        SELECT DISTINCT ON (text_sha256) text_sha256, dimensions_evidenced
          FROM ops.q2q_scored_texts
         WHERE provider = :provider
           AND (NOT :rescore OR (model_version = :model_version AND taxonomy_version = :taxonomy_version))
         ORDER BY text_sha256, scored_at DESC
    )
    SELECT texts.text_id, texts.source_table, texts.source_id, texts.participant_user_id, texts.text,
           texts.language, texts.text_sha256,
           array_remove(ARRAY[texts.author_user_id, texts.subject_user_id, texts.participant_user_id,
                              counterpart.user_id], NULL) AS people
      FROM core.texts AS texts
      LEFT JOIN ledger ON ledger.text_sha256 = texts.text_sha256
      LEFT JOIN LATERAL (
            SELECT sessions.volunteer_user_id AS user_id
              FROM core.kintell_sessions AS sessions
             WHERE texts.source_table = 'kintell_sessions' AND sessions.session_id = texts.source_id
            UNION ALL
            SELECT sessions.volunteer_user_id
              FROM core.kintell_ratings AS ratings
              JOIN core.kintell_sessions AS sessions ON sessions.session_id = ratings.session_id
             WHERE texts.source_table = 'kintell_ratings' AND ratings.rating_id = texts.source_id
            UNION ALL
            SELECT matches.buddy_user_id
              FROM core.buddy_feedback AS feedback
              JOIN core.buddy_matches AS matches ON matches.match_id = feedback.match_id
             WHERE texts.source_table = 'buddy_feedback' AND feedback.feedback_id = texts.source_id
            UNION ALL
            SELECT matches.buddy_user_id
              FROM core.buddy_checkins AS checkins
              JOIN core.buddy_matches AS matches ON matches.match_id = checkins.match_id
             WHERE texts.source_table = 'buddy_checkins' AND checkins.checkin_id = texts.source_id
            UNION ALL
            SELECT matches.buddy_user_id
              FROM core.buddy_events AS events
              JOIN core.buddy_matches AS matches ON matches.match_id = events.match_id
             WHERE texts.source_table = 'buddy_events' AND events.event_id = texts.source_id
            LIMIT 1
      ) AS counterpart ON true
     WHERE ledger.text_sha256 IS NULL
        OR (ledger.dimensions_evidenced > 0 AND NOT EXISTS (
                SELECT FROM core.outcome_scores AS scores
                 WHERE scores.text_id = texts.text_id AND scores.model_id = :model_id
                   AND scores.text_sha256 = texts.text_sha256
                   AND (NOT :rescore OR (scores.model_version = :model_version
                                         AND scores.taxonomy_version = :taxonomy_version))))
     ORDER BY texts.text_sha256, texts.text_id
    """
)

_REMOVE_LEFT_TEXTS = sa.text(
    "DELETE FROM core.outcome_scores AS scores WHERE NOT EXISTS "
    "(SELECT FROM core.texts WHERE texts.text_id = scores.text_id) RETURNING scores.text_id"
)

_INSERT_SCORE = sa.text(
    """
    INSERT INTO core.outcome_scores (score_id, text_id, source_table, source_id, user_id, dimension, score,
                                     confidence, provider, model_id, model_version, taxonomy_version, text_sha256)
    VALUES (:score_id, :text_id, :source_table, :source_id, :user_id, :dimension, :score, :confidence,
            :provider, :model_id, :model_version, :taxonomy_version, :text_sha256)
    """
)
_INSERT_SNIPPET = sa.text(
    """
    INSERT INTO core.evidence_snippets (score_id, text_id, source_table, source_id, user_id, dimension,
                                        snippet, snippet_sha256)
    VALUES (:score_id, :text_id, :source_table, :source_id, :user_id, :dimension, :snippet, :snippet_sha256)
    """
)
_RECORD_LEDGER = sa.text(
    """
    INSERT INTO ops.q2q_scored_texts (text_sha256, provider, model_id, model_version, taxonomy_version, status,
                                      reason, dimensions_evidenced)
    VALUES (:text_sha256, :provider, :model_id, :model_version, :taxonomy_version, :status, :reason, :dimensions)
    ON CONFLICT (text_sha256, provider, model_version, taxonomy_version) DO UPDATE
       SET status = excluded.status, reason = excluded.reason,
           dimensions_evidenced = excluded.dimensions_evidenced, scored_at = now()
    """
)


def _pending_batches(engine: sa.Engine, params: Mapping[str, Any], batch_size: int) -> Iterator[list[PendingText]]:
    """The pending texts in batches, streamed from a server-side cursor."""
    with engine.connect() as db:
        result = db.execution_options(stream_results=True, yield_per=batch_size).execute(_PENDING, dict(params))
        for partition in result.mappings().partitions(batch_size):
            yield [
                PendingText(
                    text_id=row["text_id"],
                    source_table=row["source_table"],
                    source_id=row["source_id"],
                    participant_user_id=row["participant_user_id"],
                    text=row["text"],
                    language=row["language"],
                    text_sha256=row["text_sha256"],
                    people=tuple(row["people"]),
                )
                for row in partition
            ]


def _people(engine: sa.Engine, user_ids: set[str]) -> dict[str, Person]:
    """The record's people as pii.user_identities knows them (the platform's user is a PII reader)."""
    if not user_ids:
        return {}
    with engine.connect() as db:
        rows = db.execute(
            sa.text("SELECT user_id, email, display_name FROM pii.user_identities WHERE user_id = ANY(:ids)"),
            {"ids": sorted(user_ids)},
        ).mappings()
        return {row["user_id"]: Person(email=row["email"], display_name=row["display_name"]) for row in rows}


def _score_safely(provider: OutcomeProvider, texts: Sequence[str], languages: Sequence[Language]) -> list[Any]:
    """Scores per text; a text the provider fails on gets its error (a batch failure is retried text by
    text, so one bad text never costs the others their scores)."""
    try:
        return list(provider.score_texts(texts, languages))
    except Exception:
        answers: list[Any] = []
        for text, language in zip(texts, languages, strict=True):
            try:
                answers.append(provider.score_texts([text], [language])[0])
            except Exception as exc:  # recorded in the ledger as the text's reason
                answers.append(exc)
        return answers


def score_pending_texts(
    engine: sa.Engine,
    provider: OutcomeProvider,
    taxonomy_version: str,
    *,
    rescore: bool = False,
    batch_size: int = BATCH_SIZE,
) -> ScoringReport:
    """Score the texts of core.texts that need it (module docstring) and record them in the ledger."""
    report = ScoringReport()
    versions = {
        "provider": provider.name,
        "model_id": provider.model_id,
        "model_version": provider.model_version,
        "taxonomy_version": taxonomy_version,
    }
    with engine.begin() as db:
        report.texts_removed = len(set(db.execute(_REMOVE_LEFT_TEXTS).scalars()))
        total: int = db.execute(sa.text("SELECT count(*) FROM core.texts")).scalar_one()

    processed = 0
    for batch in _pending_batches(engine, {**versions, "rescore": rescore}, batch_size):
        processed += len(batch)
        _score_batch(engine, provider, versions, batch, report)
    report.texts_unchanged = total - processed
    return report


def _score_batch(
    engine: sa.Engine,
    provider: OutcomeProvider,
    versions: Mapping[str, str],
    batch: list[PendingText],
    report: ScoringReport,
) -> None:
    ledger: dict[str, dict[str, Any]] = {}
    readable: list[PendingText] = []
    for item in batch:
        reason = unscorable_reason(item.text)
        if reason is not None:
            ledger[item.text_sha256] = {"status": "unscorable", "reason": reason, "dimensions": 0}
            report.texts_unscorable += 1
            kind = reason_kind(reason)
            report.unscorable_reasons[kind] = report.unscorable_reasons.get(kind, 0) + 1
        elif item.language not in ("en", "uk"):
            ledger[item.text_sha256] = {
                "status": "other_language",
                "reason": f"language {item.language}: Q2Q reads en and uk",
                "dimensions": 0,
            }
            report.texts_other_language += 1
        else:
            readable.append(item)

    # Each distinct hash is read once; records sharing the words share the answer.
    distinct: dict[str, PendingText] = {}
    for item in readable:
        distinct.setdefault(item.text_sha256, item)
    languages: list[Language] = ["uk" if item.language == "uk" else "en" for item in distinct.values()]
    answers = dict(
        zip(distinct, _score_safely(provider, [item.text for item in distinct.values()], languages), strict=True)
    )

    people = _people(engine, {user_id for item in readable for user_id in item.people})
    scores: list[dict[str, Any]] = []
    snippets: list[dict[str, Any]] = []
    for item in readable:
        answer = answers[item.text_sha256]
        if isinstance(answer, Exception):
            reason = f"provider error: {type(answer).__name__}: {answer}"[:500]
            ledger[item.text_sha256] = {"status": "unscorable", "reason": reason, "dimensions": 0}
            report.texts_unscorable += 1
            report.unscorable_reasons["provider error"] = report.unscorable_reasons.get("provider error", 0) + 1
            continue
        found: TextScores = answer
        kept = evidenced(found, provider.threshold)
        ledger[item.text_sha256] = {"status": "scored", "reason": None, "dimensions": len(kept)}
        report.texts_scored += 1
        record_people = [people[user_id] for user_id in item.people if user_id in people]
        for dimension in kept:
            value = found[dimension]
            score_id = str(uuid.uuid4())
            row = {
                "score_id": score_id,
                "text_id": item.text_id,
                "source_table": item.source_table,
                "source_id": item.source_id,
                "user_id": item.participant_user_id,
                "dimension": dimension,
            }
            scores.append(
                {
                    **row,
                    **versions,
                    "score": round(min(max(value.score, 0.0), 1.0), 4),
                    "confidence": round(min(max(value.confidence, 0.0), 1.0), 4),
                    "text_sha256": item.text_sha256,
                }
            )
            snippet = normalise_text(scrub_personal_data(value.evidence or "", record_people))
            if snippet:
                snippets.append({**row, "snippet": snippet, "snippet_sha256": text_sha256(snippet)})

    with engine.begin() as db:
        # A text read again replaces this model's scores of it (their snippets go with them).
        db.execute(
            sa.text("DELETE FROM core.outcome_scores WHERE model_id = :model_id AND text_id = ANY(:text_ids)"),
            {"model_id": versions["model_id"], "text_ids": [item.text_id for item in batch]},
        )
        if scores:
            db.execute(_INSERT_SCORE, scores)
        if snippets:
            db.execute(_INSERT_SNIPPET, snippets)
        db.execute(
            _RECORD_LEDGER,
            [{"text_sha256": sha, **versions, **entry} for sha, entry in sorted(ledger.items())],
        )
    report.scores_written += len(scores)
    report.snippets_written += len(snippets)
