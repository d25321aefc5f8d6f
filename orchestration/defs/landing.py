"""Landing-folder sensors: one per source, each turning new files into a run of what they feed.

A sensor only reads `<landing>/<source>/` (no database): it hashes new or changed files of the
source's entities and asks for one run of the pipeline job limited to those entities' raw assets and
everything downstream of them. The nightly schedule still processes everything waiting.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from connectors.registry import ENTITIES, EntitySpec
from orchestration.defs.ingest import waiting_files
from orchestration.defs.pipeline import pipeline_job
from orchestration.resources import PlatformResource

CURSOR_VERSION = 1
MINIMUM_INTERVAL_SECONDS = 30
# Run tag values stay readable in the UI; the full list is in the run's own logs.
MAX_FILES_TAG_LENGTH = 1000

SOURCES: tuple[str, ...] = tuple(dict.fromkeys(spec.source for spec in ENTITIES.values()))
"""Every source with at least one entity, in registry order."""


@dataclass(frozen=True)
class SeenFile:
    """What the cursor remembers of a landing file: enough to skip re-hashing it when unchanged."""

    size: int
    mtime_ns: int
    sha256: str


def landing_sensor_name(source: str) -> str:
    return f"{source}_landing_sensor"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def read_cursor(cursor: str | None) -> dict[str, SeenFile]:
    """The cursor's files (landing-relative path → size, mtime, hash); empty if absent or unreadable.

    An unreadable cursor only means every present file is requested once more: harmless, since the
    loader skips bytes it loaded before.
    """
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
        if data.get("version") != CURSOR_VERSION:
            return {}
        return {
            path: SeenFile(size=int(size), mtime_ns=int(mtime_ns), sha256=str(sha256))
            for path, (size, mtime_ns, sha256) in data["files"].items()
        }
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}


def write_cursor(files: Mapping[str, SeenFile]) -> str:
    return json.dumps(
        {
            "version": CURSOR_VERSION,
            "files": {path: [seen.size, seen.mtime_ns, seen.sha256] for path, seen in sorted(files.items())},
        },
        separators=(",", ":"),
    )


@dataclass(frozen=True)
class LandingScan:
    """One look at a source's landing folder."""

    files: dict[str, SeenFile]
    """Every entity file present now (the next cursor)."""
    new: dict[str, tuple[EntitySpec, str]]
    """Files whose (entity, hash) had not been requested before: path → (entity, sha256)."""
    unreadable: dict[str, str]
    """Files that could not be read this time (path → error); tried again next tick."""


def scan_landing_folder(
    landing_dir: Path, specs: Iterable[EntitySpec], previous: Mapping[str, SeenFile]
) -> LandingScan:
    """Stat every entity file; hash only those whose size or mtime changed since `previous`."""
    entity_of: dict[str, EntitySpec] = {}
    for spec in specs:
        for path in waiting_files(landing_dir, spec):
            entity_of[path.relative_to(landing_dir).as_posix()] = spec
    # Requested before: the hashes the cursor holds, per entity (a copy under another name is no news).
    requested = {(entity_of[path].asset_name, seen.sha256) for path, seen in previous.items() if path in entity_of}
    files: dict[str, SeenFile] = {}
    new: dict[str, tuple[EntitySpec, str]] = {}
    unreadable: dict[str, str] = {}
    for relative, spec in sorted(entity_of.items()):
        path = landing_dir / relative
        try:
            stat = path.stat()
            before = previous.get(relative)
            if before and (before.size, before.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                files[relative] = before
                continue
            seen = SeenFile(size=stat.st_size, mtime_ns=stat.st_mtime_ns, sha256=file_sha256(path))
        except FileNotFoundError:  # removed while we looked; whatever replaces it is seen next tick
            continue
        except OSError as exc:  # one unreadable file must not hold back the others
            unreadable[relative] = str(exc)
            continue
        files[relative] = seen
        if (spec.asset_name, seen.sha256) not in requested:
            requested.add((spec.asset_name, seen.sha256))
            new[relative] = (spec, seen.sha256)
    return LandingScan(files=files, new=new, unreadable=unreadable)


def landing_run_key(hashes: Iterable[str]) -> str:
    """The file's SHA-256, or for several files the SHA-256 of their sorted hashes: same bytes, same key."""
    unique = sorted(set(hashes))
    if len(unique) == 1:
        return unique[0]
    return hashlib.sha256("\n".join(unique).encode()).hexdigest()


def build_landing_sensor(source: str, job_name: str) -> dg.SensorDefinition:
    """The sensor of `<landing>/<source>/`: new files → one run of their raw assets and all downstream."""
    specs = [spec for spec in ENTITIES.values() if spec.source == source]
    patterns = ", ".join(f"{source}/{spec.file_prefix}*.csv" for spec in specs)

    @dg.sensor(
        name=landing_sensor_name(source),
        job_name=job_name,
        minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Watches the landing folder for {patterns}. A file whose SHA-256 was not requested before starts "
            f"one run of its entity's raw asset and everything downstream (dbt models, event outbox); the run "
            f"key is the hash, so the same bytes never start two runs."
        ),
    )
    def landing_sensor(
        context: dg.SensorEvaluationContext, platform: PlatformResource
    ) -> dg.SensorResult | dg.SkipReason:
        landing_dir = platform.settings().landing_path
        previous = read_cursor(context.cursor)
        scan = scan_landing_folder(landing_dir, specs, previous)
        for name, error in scan.unreadable.items():
            context.log.warning(f"cannot read landing file {name}, trying again next tick: {error}")
        cursor = write_cursor(scan.files)
        if not scan.new:
            message = f"no new files in {landing_dir / source}"
            if scan.files == previous:
                return dg.SkipReason(message)
            # Renamed, touched or removed files: remember them so they are not hashed again.
            return dg.SensorResult(skip_reason=message, cursor=cursor)

        if context.repository_def is None:
            raise dg.DagsterInvariantViolationError(f"{landing_sensor_name(source)} needs its code location's assets")
        raw_keys = sorted({dg.AssetKey(["raw", spec.asset_name]) for spec, _ in scan.new.values()})
        # One run per tick for the source: entities landing together share downstream dbt models,
        # and two runs building the same models at once would race.
        graph = context.repository_def.asset_graph
        downstream = dg.AssetSelection.assets(*raw_keys).downstream()
        # Plus the models those read that no run may have built yet (a first file of one source): they are
        # incremental, so building them again costs little. Other sources' ingest assets stay out.
        other_raw = {dg.AssetKey(["raw", spec.asset_name]) for spec in ENTITIES.values()} - set(raw_keys)
        selection = downstream.resolve(graph) | {
            key
            for key in downstream.upstream().resolve(graph)
            if key not in other_raw and graph.get(key).is_materializable
        }
        file_names = sorted(scan.new)
        for name in file_names:
            context.log.info(f"new landing file {name} (sha256 {scan.new[name][1]})")
        files_tag = ", ".join(file_names)
        if len(files_tag) > MAX_FILES_TAG_LENGTH:
            files_tag = files_tag[: MAX_FILES_TAG_LENGTH - 3] + "..."
        request = dg.RunRequest(
            run_key=landing_run_key(sha256 for _, sha256 in scan.new.values()),
            asset_selection=sorted(selection),
            tags={
                "teei/trigger": landing_sensor_name(source),
                "teei/source": source,
                "teei/landing_files": files_tag,
            },
        )
        return dg.SensorResult(run_requests=[request], cursor=cursor)

    return landing_sensor


def build_landing_sensors(job_name: str) -> list[dg.SensorDefinition]:
    """One landing sensor per source of the registry, each targeting the asset job `job_name`."""
    return [build_landing_sensor(source, job_name) for source in SOURCES]


# Dagster reads the annotations of sensor functions at definition time: no postponed annotations here.
defs = dg.Definitions(sensors=build_landing_sensors(pipeline_job.name))
