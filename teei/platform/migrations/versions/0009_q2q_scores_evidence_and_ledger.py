"""Q2Q scoring: core.outcome_scores says which text, provider and versions a score came from;
core.evidence_snippets holds the sentence behind each score, with personal data removed; the ledger
ops.q2q_scored_texts records every text hash a provider read, so an unchanged text is never read again.

core.outcome_scores (0003) was empty until now, so its new columns can be required. It holds the
*current* scores of each text per model: scoring a text again (its words changed, or a deliberate
rescore under a new version) replaces that model's scores of the text. The ledger is keyed by what a
score depends on (the text's hash, provider, model version, taxonomy version) and also records the
texts that could not be scored, with the reason. It holds no text, only hashes: nothing in it needs
erasing when a person is erased.

`vector(384)` is pgvector's type (the extension ships with the embedded PostgreSQL); the column stays
null until a provider that makes sentence vectors fills it. The HNSW index serves cosine-distance
search (`vector <=> query`). The extension is left installed on downgrade: it belongs to the database,
and other objects may use it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LEDGER_STATUSES = ("scored", "other_language", "unscorable")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")

    op.execute(
        """
        ALTER TABLE core.outcome_scores
            ADD COLUMN text_id          text not null,
            ADD COLUMN provider         text not null,
            ADD COLUMN taxonomy_version text not null,
            ALTER COLUMN text_sha256 SET NOT NULL,
            -- a text on a record whose match is not loaded yet has no participant
            ALTER COLUMN user_id DROP NOT NULL,
            ADD CONSTRAINT outcome_scores_text_id_names_its_record
                check (text_id = source_table || ':' || source_id)
        """
    )
    op.execute("CREATE INDEX outcome_scores_text_idx ON core.outcome_scores (text_id, model_id)")

    op.execute(
        """
        CREATE TABLE core.evidence_snippets (
            snippet_id       uuid        primary key default gen_random_uuid(),
            score_id         uuid        not null unique
                                         references core.outcome_scores (score_id) on delete cascade,
            text_id          text        not null,
            source_table     text        not null,
            source_id        text        not null,
            user_id          text,
            dimension        text        not null,
            snippet          text        not null check (snippet <> ''),
            snippet_sha256   text        not null check (snippet_sha256 ~ '^[0-9a-f]{64}$'),
            vector           vector(384),
            created_at       timestamptz not null default now()
        )
        """
    )
    op.execute("CREATE INDEX evidence_snippets_text_idx ON core.evidence_snippets (text_id)")
    op.execute("CREATE INDEX evidence_snippets_user_idx ON core.evidence_snippets (user_id)")
    op.execute(
        "CREATE INDEX evidence_snippets_vector_idx ON core.evidence_snippets USING hnsw (vector vector_cosine_ops)"
    )

    statuses = ", ".join(f"'{status}'" for status in LEDGER_STATUSES)
    op.execute(
        f"""
        CREATE TABLE ops.q2q_scored_texts (
            text_sha256            text        not null check (text_sha256 ~ '^[0-9a-f]{{64}}$'),
            provider               text        not null,
            model_id               text        not null,
            model_version          text        not null,
            taxonomy_version       text        not null,
            status                 text        not null check (status in ({statuses})),
            -- why a text was not scored (unscorable, other_language); null when it was
            reason                 text,
            dimensions_evidenced   integer     not null default 0 check (dimensions_evidenced >= 0),
            scored_at              timestamptz not null default now(),
            primary key (text_sha256, provider, model_version, taxonomy_version),
            check ((status = 'scored') = (reason is null))
        )
        """
    )
    op.execute(
        "CREATE INDEX q2q_scored_texts_provider_idx ON ops.q2q_scored_texts (provider, text_sha256, scored_at DESC)"
    )
    # core's default privileges (0003) give the API role SELECT on tables the migrating user creates,
    # evidence_snippets included; the ledger in ops stays out of its reach like the rest of ops.


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS ops.q2q_scored_texts")
    op.execute("DROP TABLE IF EXISTS core.evidence_snippets")
    op.execute("DELETE FROM core.outcome_scores")
    op.execute("DROP INDEX IF EXISTS core.outcome_scores_text_idx")
    op.execute(
        """
        ALTER TABLE core.outcome_scores
            DROP CONSTRAINT outcome_scores_text_id_names_its_record,
            ALTER COLUMN user_id SET NOT NULL,
            ALTER COLUMN text_sha256 DROP NOT NULL,
            DROP COLUMN taxonomy_version,
            DROP COLUMN provider,
            DROP COLUMN text_id
        """
    )
