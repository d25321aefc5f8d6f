"""Every source entity the platform ingests: its landing files, raw table, record contract and mapping.

A new source entity is a record in `contracts/`, a section in its connector's `mapping.yaml` and
one `EntitySpec` here; the loader, the ingest assets and the landing sensor all work from this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from connectors import kintell
from connectors.mapping import EntityMapping, load_mapping
from contracts.kintell import KintellSessionRecord


# eq=False: one spec per entity, compared (and hashed) by identity; the dict fields are unhashable.
@dataclass(frozen=True, eq=False)
class EntitySpec:
    """How one source entity is read, validated and stored."""

    source: str
    entity: str
    file_prefix: str
    raw_table: str
    natural_key: tuple[str, ...]
    record: type[BaseModel]
    mapping: EntityMapping
    identities: dict[str, str]

    def __post_init__(self) -> None:
        # A mapping that drifted from its record would silently turn columns into extras.
        fields = set(self.record.model_fields)
        unknown = self.mapping.fields - fields
        unmapped = fields - self.mapping.fields
        if unknown or unmapped:
            raise ValueError(
                f"{self.source}/{self.entity}: mapping and {self.record.__name__} disagree"
                f" (mapping only: {sorted(unknown)}, record only: {sorted(unmapped)})"
            )
        if not set(self.natural_key) | set(self.identities) <= fields:
            raise ValueError(f"{self.source}/{self.entity}: natural key or identities name unknown fields")

    @property
    def asset_name(self) -> str:
        """The Dagster asset name (under the `raw` prefix): `<source>_<entity>`."""
        return f"{self.source}_{self.entity}"

    def matches_file(self, landing_relative_path: Path) -> bool:
        """Whether a landing file is this entity's: `<source>/<prefix>*.csv`, ignoring case."""
        name = landing_relative_path.name.lower()
        return (
            landing_relative_path.parent.name.lower() == self.source
            and name.startswith(self.file_prefix)
            and name.endswith(".csv")
        )


KINTELL_SESSIONS = EntitySpec(
    source="kintell",
    entity="sessions",
    file_prefix="sessions",
    raw_table="kintell_sessions",
    natural_key=("session_id",),
    record=KintellSessionRecord,
    mapping=load_mapping(kintell.MAPPING_PATH, "sessions"),
    identities={"participant_email": "participant_user_id", "volunteer_email": "volunteer_user_id"},
)

ENTITIES: dict[tuple[str, str], EntitySpec] = {(spec.source, spec.entity): spec for spec in (KINTELL_SESSIONS,)}


def entity_for_file(landing_relative_path: Path) -> EntitySpec | None:
    """The entity a landing file holds, from its folder and name prefix, or None if no entity's."""
    for spec in ENTITIES.values():
        if spec.matches_file(landing_relative_path):
            return spec
    return None


def get_entity(source: str, entity: str) -> EntitySpec:
    """The spec of `source`/`entity`; KeyError naming the known entities when there is none."""
    try:
        return ENTITIES[(source, entity)]
    except KeyError:
        known = ", ".join(f"{s}/{e}" for s, e in sorted(ENTITIES))
        raise KeyError(f"unknown source entity {source}/{entity}; known: {known}") from None
