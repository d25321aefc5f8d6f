"""Ingest assets: one `raw/<source>_<entity>` asset per source entity, all through the one loader."""

from pathlib import Path

import dagster as dg

from connectors.registry import ENTITIES, EntitySpec, entity_for_file
from orchestration.resources import PlatformResource
from teei.ingest.loader import LoadResult, load_csv_file


def waiting_files(landing_dir: Path, spec: EntitySpec) -> list[Path]:
    """The files of `spec`'s entity in the landing folder, oldest name first."""
    folder = landing_dir / spec.source
    if not folder.is_dir():
        return []
    return sorted(
        path for path in folder.iterdir() if path.is_file() and entity_for_file(path.relative_to(landing_dir)) == spec
    )


def _load_table(results: list[LoadResult]) -> dg.TableMetadataValue:
    return dg.MetadataValue.table(
        records=[
            dg.TableRecord(
                {
                    "load_id": r.load_id,
                    "file": r.file_name,
                    "status": r.status,
                    "in": r.rows_in,
                    "loaded": r.rows_loaded,
                    "quarantined": r.rows_quarantined,
                    "duplicate": r.rows_duplicate,
                }
            )
            for r in results
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("load_id", "int"),
                dg.TableColumn("file", "string"),
                dg.TableColumn("status", "string"),
                dg.TableColumn("in", "int"),
                dg.TableColumn("loaded", "int"),
                dg.TableColumn("quarantined", "int"),
                dg.TableColumn("duplicate", "int"),
            ]
        ),
    )


FILES_LOADED_CHECK = "every_file_loaded"


def build_ingest_asset(spec: EntitySpec) -> dg.AssetsDefinition:
    """The asset that loads every waiting `<source>/<prefix>*.csv` file into `raw.<table>`.

    A file that fails (undecodable, no header, missing columns) fails alone: its load is recorded
    `failed`, the other files load, and the asset still materializes, so dbt and the outbox go on for
    every source. The failure shows on the asset as a failed `every_file_loaded` check (a warning, not a
    blocking error) with each file's reason; the same bytes are not tried again until they change.
    """
    key = dg.AssetKey(["raw", spec.asset_name])

    @dg.asset(
        key=key,
        check_specs=[
            dg.AssetCheckSpec(
                FILES_LOADED_CHECK,
                asset=key,
                description="Every waiting file of this entity loaded (or was loaded before); failed files are listed.",
            )
        ],
        group_name=spec.source,
        kinds={"postgres", "csv"},
        description=(
            f"{spec.source} {spec.entity} exports from the landing folder ({spec.source}/{spec.file_prefix}*.csv), "
            f"loaded into raw.{spec.raw_table} with lineage; bad rows go to ops.quarantine."
        ),
    )
    def ingest(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
        settings = platform.settings()
        engine = platform.engine()
        results = []
        for path in waiting_files(settings.landing_path, spec):
            result = load_csv_file(
                engine,
                path,
                spec,
                timezone=settings.tzinfo,
                pseudonym_key=settings.pseudonym_key.get_secret_value(),
                file_name=str(path.relative_to(settings.landing_path)),
            )
            context.log.info(
                f"{result.file_name}: {result.status}, {result.rows_in} in, {result.rows_loaded} loaded, "
                f"{result.rows_quarantined} quarantined, {result.rows_duplicate} duplicate"
            )
            results.append(result)
        metadata: dict[str, dg.RawMetadataValue] = {
            "files": len(results),
            "rows_in": sum(r.rows_in for r in results),
            "rows_loaded": sum(r.rows_loaded for r in results),
            "rows_quarantined": sum(r.rows_quarantined for r in results),
            "rows_duplicate": sum(r.rows_duplicate for r in results),
            "loads": _load_table(results),
        }
        failed = [r for r in results if r.status == "failed"]
        held = [r for r in results if r.status == "skipped" and r.error]
        for result in failed:
            context.log.warning(f"{result.file_name}: failed, the other files go on: {result.error}")
        check = dg.AssetCheckResult(
            check_name=FILES_LOADED_CHECK,
            passed=not failed,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "failed": [f"{r.file_name} (load {r.load_id}): {r.error}" for r in failed],
                "not_retried": [f"{r.file_name} (load {r.load_id}): {r.error}" for r in held],
            },
        )
        return dg.MaterializeResult(metadata={**metadata, "files_failed": len(failed)}, check_results=[check])

    return ingest


defs = dg.Definitions(assets=[build_ingest_asset(spec) for spec in ENTITIES.values()])
