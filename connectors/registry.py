"""Every source entity the platform ingests: its landing files, raw table, record contract and mapping.

A new source entity is a record in `contracts/`, a section in its connector's `mapping.yaml` and
one `EntitySpec` here; the loader, the ingest assets and the landing sensor all work from this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from connectors.mapping import EntityMapping, load_mapping
from contracts.buddy import BuddyCheckinRecord, BuddyEventRecord, BuddyFeedbackRecord, BuddyMatchRecord
from contracts.fields import SourceRecord
from contracts.kintell import KintellRatingRecord, KintellSessionRecord
from contracts.roster import RosterCompanyRecord, RosterVolunteerRecord
from contracts.upskilling import UpskillingCredentialRecord, UpskillingProgressRecord


# eq=False: one spec per entity, compared (and hashed) by identity; the dict fields are unhashable.
@dataclass(frozen=True, eq=False)
class EntitySpec:
    """How one source entity is read, validated and stored."""

    source: str
    entity: str
    file_prefix: str
    raw_table: str
    natural_key: tuple[str, ...]
    record: type[SourceRecord]
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
        if set(self.identities) != set(self.record.identity_fields):
            raise ValueError(f"{self.source}/{self.entity}: identities must name {self.record.identity_fields}")
        if not set(self.natural_key) | set(self.identities) | set(self.mapping.constants) <= fields:
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


# Found through the installed package, so a wheel works from anywhere.
_CONNECTORS_DIR = Path(str(files("connectors")))


def _spec(
    source: str,
    entity: str,
    record: type[SourceRecord],
    natural_key: tuple[str, ...],
    *,
    raw_table: str | None = None,
    identities: dict[str, str] | None = None,
) -> EntitySpec:
    return EntitySpec(
        source=source,
        entity=entity,
        file_prefix=entity,
        raw_table=raw_table or f"{source}_{entity}",
        natural_key=natural_key,
        record=record,
        mapping=load_mapping(_CONNECTORS_DIR / source / "mapping.yaml", entity),
        identities=identities or {},
    )


KINTELL_SESSIONS = _spec(
    "kintell",
    "sessions",
    KintellSessionRecord,
    ("session_id",),
    identities={"participant_email": "participant_user_id", "volunteer_email": "volunteer_user_id"},
)
KINTELL_RATINGS = _spec("kintell", "ratings", KintellRatingRecord, ("rating_id",))
BUDDY_MATCHES = _spec(
    "buddy",
    "matches",
    BuddyMatchRecord,
    ("match_id",),
    identities={"participant_email": "participant_user_id", "buddy_email": "buddy_user_id"},
)
BUDDY_EVENTS = _spec("buddy", "events", BuddyEventRecord, ("event_id",))
BUDDY_CHECKINS = _spec("buddy", "checkins", BuddyCheckinRecord, ("checkin_id",))
BUDDY_FEEDBACK = _spec("buddy", "feedback", BuddyFeedbackRecord, ("feedback_id",))
# The two course providers export differently (an adapter each) into one progress table.
UPSKILLING_ECORNELL, UPSKILLING_ITSLEARNING = (
    _spec(
        "upskilling",
        provider,
        UpskillingProgressRecord,
        ("provider", "user_email", "course_id"),
        raw_table="upskilling_progress",
        identities={"user_email": "user_id"},
    )
    for provider in ("ecornell", "itslearning")
)
UPSKILLING_CREDENTIALS = _spec(
    "upskilling", "credentials", UpskillingCredentialRecord, ("credential_id",), identities={"user_email": "user_id"}
)
ROSTER_COMPANIES = _spec("roster", "companies", RosterCompanyRecord, ("company_code",))
ROSTER_VOLUNTEERS = _spec(
    "roster", "volunteers", RosterVolunteerRecord, ("employee_email",), identities={"employee_email": "user_id"}
)

ENTITIES: dict[tuple[str, str], EntitySpec] = {
    (spec.source, spec.entity): spec
    for spec in (
        KINTELL_SESSIONS,
        KINTELL_RATINGS,
        BUDDY_MATCHES,
        BUDDY_EVENTS,
        BUDDY_CHECKINS,
        BUDDY_FEEDBACK,
        UPSKILLING_ECORNELL,
        UPSKILLING_ITSLEARNING,
        UPSKILLING_CREDENTIALS,
        ROSTER_COMPANIES,
        ROSTER_VOLUNTEERS,
    )
}
"""Every source entity, by (source, entity); also the order `teei run` loads files in."""


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
