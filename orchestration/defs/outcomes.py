# Dagster reads the annotations of asset functions at definition time: no postponed annotations here.
"""Q2Q: the texts of core.texts scored into core.outcome_scores with evidence in core.evidence_snippets.

In the lineage graph between dbt's core.texts (and pii.user_identities, whose names the scrubber
removes) and the metrics models that read the scores (the dbt source `q2q.outcome_scores` points at
this asset). Both sides are dbt models of one multi-asset; Dagster runs it as two steps, one before
this asset and one after, so a run builds texts, scores them, then the metrics from the new scores.
"""

import dagster as dg

from orchestration.resources import PlatformResource
from teei.outcomes.registry import get_provider
from teei.outcomes.scoring import score_pending_texts
from teei.outcomes.taxonomy import load_taxonomy

OUTCOME_SCORES_KEY = dg.AssetKey(["core", "outcome_scores"])


class OutcomeScoresConfig(dg.Config):
    """`rescore`: read every text again under the current provider, model and taxonomy versions (a
    deliberate step after a version changes; otherwise only new and changed texts are read)."""

    rescore: bool = False


@dg.asset(
    key=OUTCOME_SCORES_KEY,
    deps=[dg.AssetKey(["core", "texts"]), dg.AssetKey(["pii", "user_identities"])],
    group_name="q2q",
    kinds={"postgres", "python"},
    description=(
        "Outcome scores (0–1, confidence, provider, model and taxonomy versions) of every text in core.texts, "
        "with the supporting sentence, personal data removed, in core.evidence_snippets. Incremental by text "
        "hash: the ledger ops.q2q_scored_texts records each hash read, so unchanged text is never scored again; "
        "texts that cannot be scored are recorded there with the reason. The provider is TEEI_Q2Q_PROVIDER."
    ),
)
def outcome_scores(
    context: dg.AssetExecutionContext, config: OutcomeScoresConfig, platform: PlatformResource
) -> dg.MaterializeResult:
    settings = platform.settings()
    provider = get_provider(settings.q2q_provider)
    taxonomy_version = load_taxonomy().version
    report = score_pending_texts(platform.engine(), provider, taxonomy_version, rescore=config.rescore)
    context.log.info(
        f"{provider.name} {provider.model_version} (taxonomy {taxonomy_version}): {report.texts_scored} texts "
        f"scored, {report.texts_unchanged} unchanged, {report.texts_unscorable} unscorable, "
        f"{report.texts_other_language} in other languages"
    )
    return dg.MaterializeResult(
        metadata={
            **report.as_metadata(),
            "provider": provider.name,
            "model_id": provider.model_id,
            "model_version": provider.model_version,
            "taxonomy_version": taxonomy_version,
            "rescore": config.rescore,
        }
    )
