"""Connector mapping files: header aliases, value normalisations and score scales, read from YAML.

A connector's `mapping.yaml` has one section per entity:

    sessions:
      aliases:            # canonical field -> other header spellings (every field listed, even with [])
        participant_email: [learner email, newcomer email]
      values:             # canonical field -> canonical value -> source spellings, the usual one first
        session_type:
          language: [Language Connect, Language]
      scales:             # canonical field -> [low, high] of the source scale (unless a file is on 0..1)
        rating: [1, 5]
      constants:          # canonical field -> value, for a field an export never carries
        provider: ecornell

Headers and values are compared in their normalised form (`normalise_header`), so for reading the
file needs only spellings that differ in more than case, spacing or punctuation. A value's spellings
are also how exports write it: the first is the one a source's own export uses (the canonical value
itself when exports write that), and `teei generate` writes exactly these (`spellings`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from contracts.field_kinds import NOT_ALPHANUMERIC_PATTERN

_NOT_ALPHANUMERIC = re.compile(NOT_ALPHANUMERIC_PATTERN)


# Cached: the same few headers and values (session types, levels) come back on every row.
@lru_cache(maxsize=4096)
def normalise_header(name: str) -> str:
    """`name` lower-cased with everything but letters and digits removed: `Session ID` -> `sessionid`.

    So case, spaces, underscores, hyphens, punctuation and camelCase (`sessionId`) do not matter.
    """
    return _NOT_ALPHANUMERIC.sub("", name).lower()


@dataclass(frozen=True)
class EntityMapping:
    """One entity's section of a connector's mapping file, with every key already normalised."""

    aliases: dict[str, str]
    values: dict[str, dict[str, str]]
    scales: dict[str, tuple[float, float]]
    constants: dict[str, str]
    spellings: dict[str, dict[str, tuple[str, ...]]] = dataclasses.field(default_factory=dict)
    """Canonical field -> canonical value -> its spellings as the file lists them, the usual one first
    (the value itself when it lists none)."""

    def canonical_field(self, header: str) -> str | None:
        """The canonical field a source header means, or None when the mapping does not know it."""
        return self.aliases.get(normalise_header(header))

    def normalise_value(self, field: str, value: str) -> str:
        """The canonical spelling of `value` for `field`; unknown values come back unchanged (and
        are then rejected by validation, naming the value as the source wrote it)."""
        table = self.values.get(field)
        if table is None:
            return value
        return table.get(normalise_header(value), value)

    @property
    def fields(self) -> frozenset[str]:
        """Every canonical field the mapping names."""
        return frozenset(self.aliases.values())


def load_mapping(path: Path, entity: str) -> EntityMapping:
    """The `entity` section of the mapping file at `path`.

    Raises ValueError when the section is missing or malformed, or when one spelling would mean
    two different fields or values.
    """
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    section = document.get(entity)
    if not isinstance(section, dict):
        raise ValueError(f"{path}: no '{entity}' section")
    aliases = _invert(section.get("aliases"), f"{path}: {entity}.aliases")
    value_tables = _mapping_of(section.get("values") or {}, f"{path}: {entity}.values")
    values = {field: _invert(table, f"{path}: {entity}.values.{field}") for field, table in value_tables.items()}
    spellings = {
        str(field): {str(value): tuple(map(str, listed or [value])) for value, listed in table.items()}
        for field, table in value_tables.items()
    }
    scales: dict[str, tuple[float, float]] = {}
    for field, bounds in _mapping_of(section.get("scales") or {}, f"{path}: {entity}.scales").items():
        low, high = (float(bound) for bound in bounds)
        if not low < high:
            raise ValueError(f"{path}: {entity}.scales.{field}: low {low:g} must be below high {high:g}")
        scales[field] = (low, high)
    constants = {
        str(field): str(value)
        for field, value in _mapping_of(section.get("constants") or {}, f"{path}: {entity}.constants").items()
    }
    return EntityMapping(aliases=aliases, values=values, scales=scales, constants=constants, spellings=spellings)


def _mapping_of(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a mapping, found {type(value).__name__}")
    return value


def _invert(table: Any, where: str) -> dict[str, str]:
    """`{canonical: [spelling, ...]}` as `{normalised spelling: canonical}`, canonical included."""
    inverted: dict[str, str] = {}
    for canonical, spellings in _mapping_of(table, where).items():
        canonical = str(canonical)
        for spelling in [canonical, *(spellings or [])]:
            key = normalise_header(str(spelling))
            if inverted.setdefault(key, canonical) != canonical:
                raise ValueError(f"{where}: '{spelling}' means both {inverted[key]} and {canonical}")
    return inverted
