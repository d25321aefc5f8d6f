"""A source record's rules as one set-based SQL statement over a staged export.

The loader stages an export's records as text (one column per header column) and this module
turns the entity's pydantic record into the SELECT that reads them: each field is found by the
column plan, trimmed, normalised by the connector's mapping and converted by its kind (the
`FieldKind` marker on the record's field), and every broken rule becomes a reason naming the field
and the value as the source wrote it. A row with no reasons is a valid record; its user ids (HMAC
of the normalised email, see `teei.ingest.identity`) and row hash are computed in the same pass.

The rules are the record's, read from its annotations: required fields, `Literal` enums (with
the mapping's spellings), `ge`/`le` bounds, kinds (email, timestamp, CEFR, list, score, number,
whole number, JSON) and the record's `chronology`. Scores are on 0..1 in a file whose column holds
only values within 0..1, at least one of them fractional or 0; otherwise on the mapping's scale.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
from psycopg import sql
from pydantic.fields import FieldInfo

from connectors.csv_reader import ColumnPlan
from connectors.mapping import normalise_header
from connectors.registry import EntitySpec
from contracts.fields import CEFR_LEVELS, NUMBER_PATTERN, TIMESTAMP_PATTERN, FieldKind, Kind

# Whitespace trimmed from every value: exactly what Python's str.strip() removes (`str.isspace`),
# and what `\s` means in the contracts' Python regular expressions (PostgreSQL's `\s` differs).
WHITESPACE = (
    "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
EMAIL_PATTERN = rf"^[^@{WHITESPACE}]+@([^@{WHITESPACE}.]+\.)+[^@{WHITESPACE}.]+$"
LIST_SEPARATOR_PATTERN = rf"[{WHITESPACE}]*[;|,][{WHITESPACE}]*"
# Leading zeros and a zero fraction (`90.0`) allowed; at most 9 significant digits fit an integer.
WHOLE_NUMBER_PATTERN = r"^[+-]?0*[0-9]{1,9}(\.0+)?$"
# The instants Python's datetime holds: a timestamp outside them is no valid date/time in the contract.
FIRST_INSTANT, LAST_INSTANT = "0001-01-01 00:00:00+00", "9999-12-31 23:59:59.999999+00"
ZERO_TO_ONE = (0.0, 1.0)


@dataclass(frozen=True)
class FieldRule:
    """What one record field requires, read from its annotation."""

    name: str
    kind: Kind | Literal["enum"]
    required: bool
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None


def field_rules(spec: EntitySpec) -> list[FieldRule]:
    """The rules of every field of `spec`'s record, in field order."""
    rules = []
    for name, info in spec.record.model_fields.items():
        kinds: list[Kind] = []
        choices: list[str] = []
        bounds: dict[str, float] = {}
        for item in [*info.metadata, *_annotation_parts(info.annotation)]:
            if isinstance(item, FieldKind):
                kinds.append(item.kind)
            elif isinstance(item, annotated_types.Ge):
                bounds["low"] = float(item.ge)  # type: ignore[arg-type]
            elif isinstance(item, annotated_types.Le):
                bounds["high"] = float(item.le)  # type: ignore[arg-type]
            elif isinstance(item, tuple):
                choices.extend(item)
        if choices:
            rules.append(FieldRule(name, "enum", info.is_required(), tuple(choices)))
        elif kinds:
            rules.append(FieldRule(name, kinds[0], info.is_required(), (), bounds.get("low"), bounds.get("high")))
        else:
            raise TypeError(f"{spec.record.__name__}.{name}: no FieldKind or Literal; the loader cannot check it")
    return rules


def _annotation_parts(annotation: Any) -> list[Any]:
    """Metadata of nested `Annotated`s and `Literal` choices (as one tuple) inside `annotation`."""
    parts: list[Any] = []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        for item in annotation.__metadata__:
            # `Field(ge=..., le=...)` inside an Annotated keeps its constraints in its own metadata.
            parts.extend(item.metadata if isinstance(item, FieldInfo) else [item])
        parts.extend(_annotation_parts(annotation.__origin__))
    elif origin is Literal:
        parts.append(tuple(str(choice) for choice in typing.get_args(annotation)))
    elif origin in (typing.Union, types.UnionType):
        for member in typing.get_args(annotation):
            parts.extend(_annotation_parts(member))
    return parts


def scale_query(fields: dict[str, sql.Composable], stage: sql.Composable) -> sql.Composed:
    """One row: per score field, whether the file's column is on 0..1 (see the module doc)."""
    checks = []
    for expression in fields.values():
        number = sql.SQL(
            "CASE WHEN replace({v}, ',', '.') ~ {pattern} THEN replace({v}, ',', '.')::numeric END"
        ).format(v=expression, pattern=sql.Literal(NUMBER_PATTERN))
        checks.append(
            sql.SQL("coalesce(bool_and({n} BETWEEN 0 AND 1) AND bool_or({n} = 0 OR {n} <> trunc({n})), false)").format(
                n=number
            )
        )
    return sql.SQL("SELECT {} FROM {} s").format(sql.SQL(", ").join(checks), stage)


def _trimmed(column: sql.Composable) -> sql.Composable:
    return sql.SQL("nullif(btrim({column}, {ws}), '')").format(column=column, ws=sql.Literal(WHITESPACE))


def field_inputs(spec: EntitySpec, plan: ColumnPlan) -> dict[str, sql.Composable]:
    """Each field's trimmed text in the stage (`s.c<n>`), its mapping constant, or NULL."""
    inputs: dict[str, sql.Composable] = {}
    for rule in field_rules(spec):
        if rule.name in plan.fields:
            inputs[rule.name] = _trimmed(sql.Identifier("s", f"c{plan.fields[rule.name] + 1}"))
        elif rule.name in plan.constants:
            inputs[rule.name] = sql.Literal(plan.constants[rule.name])
        else:
            inputs[rule.name] = sql.SQL("NULL::text")
    return inputs


def _typed(rule: FieldRule, spec: EntitySpec, v: sql.Composable) -> sql.Composable:
    """The expression converting input `v` to the field's stored value; NULL when it does not convert."""
    literal = sql.Literal
    if rule.kind == Kind.TEXT:
        return v
    if rule.kind == Kind.EMAIL:
        # Full Unicode case mapping, as Python's str.lower() (the database's own locale may map less).
        lowered = sql.SQL("lower({v} COLLATE pg_unicode_fast)").format(v=v)
        return sql.SQL("CASE WHEN {e} ~ {p} THEN {e} END").format(e=lowered, p=literal(EMAIL_PATTERN))
    if rule.kind == Kind.CEFR:
        levels = sql.SQL(", ").join(map(literal, sorted(CEFR_LEVELS)))
        return sql.SQL("CASE WHEN upper({v}) IN ({levels}) THEN upper({v}) END").format(v=v, levels=levels)
    if rule.kind == "enum":
        spellings = {normalise_header(choice): choice for choice in rule.choices}
        spellings.update(spec.mapping.values.get(rule.name, {}))
        cases = sql.SQL(" ").join(
            sql.SQL("WHEN {} THEN {}").format(literal(spelling), literal(choice))
            for spelling, choice in sorted(spellings.items())
            if choice in rule.choices
        )
        choices = sql.SQL(", ").join(map(literal, rule.choices))
        return sql.SQL(
            "CASE WHEN {v} IN ({choices}) THEN {v} "
            "ELSE CASE lower(regexp_replace({v}, '[\\W_]+', '', 'g')) {cases} END END"
        ).format(v=v, choices=choices, cases=cases)
    if rule.kind == Kind.TIMESTAMP:
        # The regular expression admits the contract's readings only; PostgreSQL's own input then
        # reads them, with TimeZone and DateStyle (DMY) set for the load (see `session_settings`).
        return sql.SQL(
            "CASE WHEN {v} ~ {p} AND pg_input_is_valid({v}, 'timestamptz') THEN"
            " CASE WHEN {v}::timestamptz BETWEEN {first}::timestamptz AND {last}::timestamptz"
            " THEN {v}::timestamptz END END"
        ).format(v=v, p=literal(TIMESTAMP_PATTERN), first=literal(FIRST_INSTANT), last=literal(LAST_INSTANT))
    if rule.kind in (Kind.NUMBER, Kind.SCORE):
        return sql.SQL("CASE WHEN replace({v}, ',', '.') ~ {p} THEN replace({v}, ',', '.')::numeric END").format(
            v=v, p=literal(NUMBER_PATTERN)
        )
    if rule.kind == Kind.INTEGER:
        return sql.SQL("CASE WHEN {v} ~ {p} THEN split_part({v}, '.', 1)::integer END").format(
            v=v, p=literal(WHOLE_NUMBER_PATTERN)
        )
    if rule.kind == Kind.TEXT_LIST:
        # `v` is already trimmed, so splitting on separators with the spaces around them trims every item.
        return sql.SQL("to_jsonb(nullif(array_remove(regexp_split_to_array({v}, {p}), ''), '{{}}'::text[]))").format(
            v=v, p=literal(LIST_SEPARATOR_PATTERN)
        )
    if rule.kind == Kind.JSON:
        return sql.SQL(
            "CASE WHEN pg_input_is_valid({v}, 'jsonb') AND jsonb_typeof({v}::jsonb) IN ('object', 'array') "
            "THEN {v}::jsonb END"
        ).format(v=v)
    raise TypeError(f"no SQL for field kind {rule.kind}")


_NOT_CONVERTED: dict[Kind | Literal["enum"], str] = {
    Kind.EMAIL: "is not a valid email address",
    Kind.CEFR: "is not a CEFR level (A1, A2, B1, B2, C1 or C2)",
    Kind.TIMESTAMP: "is not a valid date/time",
    Kind.NUMBER: "is not a number",
    Kind.SCORE: "is not a number",
    Kind.INTEGER: "is not a whole number",
    Kind.JSON: "is not a JSON object or array",
}


def _quoted(v: sql.Composable) -> sql.Composable:
    return sql.SQL("'''' || {v} || ''''").format(v=v)


def session_settings(timezone: str) -> sql.Composed:
    """What the checking statement relies on, for the load's transaction only: naive timestamps are
    wall-clock times in `timezone`, and `dd.mm.yyyy` reads day first."""
    return sql.SQL("SELECT set_config('TimeZone', {}, true), set_config('DateStyle', 'ISO, DMY', true)").format(
        sql.Literal(timezone)
    )


def _number(value: float) -> sql.Composable:
    return sql.SQL(repr(float(value)))


def _number_text(value: float) -> str:
    return f"{value:g}"


def _choices_text(choices: tuple[str, ...]) -> str:
    quoted = [f"'{choice}'" for choice in choices]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


@dataclass(frozen=True)
class CheckedSelect:
    """The two statements reading a stage into checked rows, and the columns the second yields.

    `converting` reads the stage into inputs and converted values; `checking` reads those into
    stored values and reasons. Two tables rather than one statement: each expression is computed
    once per row, and both statements can run in parallel workers (a fenced subquery could not).
    """

    converting: sql.Composed
    checking: sql.Composed
    columns: list[str]  # the raw table's columns, in the statement's order (then `reasons`)


def checked_select(
    spec: EntitySpec,
    plan: ColumnPlan,
    stage: sql.Composable,
    converted: sql.Composable,
    *,
    zero_to_one: set[str],
    hmac_keys: tuple[bytes, bytes],
    load_id: int,
    file_name: str,
) -> CheckedSelect:
    """SELECTs reading `stage` into `converted`, and that into each row's raw-table values and `reasons`.

    Three levels: the inputs, the converted values (together, into `converted`), then the reasons and
    the derived columns (user ids, metadata, row hash).
    """
    rules = field_rules(spec)
    inputs = field_inputs(spec, plan)
    ident = sql.Identifier
    literal = sql.Literal

    # Level 1: inputs (i_<field>), extra columns as metadata, surplus values.
    level1: list[sql.Composable] = [sql.SQL("s.source_row_number")]
    level1 += [sql.SQL("{} AS {}").format(inputs[rule.name], ident(f"i_{rule.name}")) for rule in rules]
    # Extra columns by header; empty ones left out.
    extras = _json_object([(name, f"c{i + 1}") for i, name in plan.extras])
    level1.append(sql.SQL("jsonb_strip_nulls({}) AS metadata").format(extras))
    level1.append(sql.SQL("s.surplus"))

    # Level 2: converted values (v_<field>).
    level2: list[sql.Composable] = [sql.SQL("i.*")]
    level2 += [
        sql.SQL("{} AS {}").format(_typed(rule, spec, ident("i", f"i_{rule.name}")), ident(f"v_{rule.name}"))
        for rule in rules
    ]

    # Level 3: stored values, reasons, user ids, row hash.
    reasons: list[sql.Composable] = [
        sql.SQL(
            "CASE WHEN v.surplus IS NOT NULL THEN format('row has %s values but the header has %s columns', "
            "{width} + (SELECT count(*) FROM jsonb_object_keys(v.surplus::jsonb)), {width}) END"
        ).format(width=literal(len(plan.headers)))
    ]
    stored: dict[str, sql.Composable] = {}
    for rule in rules:
        i, value = ident("v", f"i_{rule.name}"), ident("v", f"v_{rule.name}")
        label = rule.name + ": "
        if rule.required:
            reasons.append(
                sql.SQL("CASE WHEN {i} IS NULL THEN {m} END").format(i=i, m=literal(label + "required, but empty"))
            )
        if rule.kind == "enum":
            message = f" should be {_choices_text(rule.choices)}"
            reasons.append(
                sql.SQL("CASE WHEN {i} IS NOT NULL AND {value} IS NULL THEN {label} || {q} || {m} END").format(
                    i=i, value=value, label=literal(label), q=_quoted(i), m=literal(message)
                )
            )
        elif rule.kind in _NOT_CONVERTED:
            reasons.append(
                sql.SQL("CASE WHEN {i} IS NOT NULL AND {value} IS NULL THEN {label} || {q} || {m} END").format(
                    i=i, value=value, label=literal(label), q=_quoted(i), m=literal(" " + _NOT_CONVERTED[rule.kind])
                )
            )
        if rule.kind == Kind.SCORE:
            low, high = ZERO_TO_ONE if rule.name in zero_to_one else spec.mapping.scales.get(rule.name, (1.0, 5.0))
            reasons.append(
                sql.SQL("CASE WHEN {value} NOT BETWEEN {low} AND {high} THEN {label} || {q} || {m} END").format(
                    value=value,
                    low=_number(low),
                    high=_number(high),
                    label=literal(label),
                    q=_quoted(i),
                    m=literal(f" is outside the scale {_number_text(low)} to {_number_text(high)}"),
                )
            )
            stored[rule.name] = sql.SQL("round(({value} - {low}) / ({high} - {low}), 4)").format(
                value=value, low=_number(low), high=_number(high)
            )
        elif rule.kind == Kind.NUMBER:
            # As the raw column stores it (numeric(7, 2)), so `92.5` and `92.50` hash as one value.
            stored[rule.name] = sql.SQL("round({value}, 2)").format(value=value)
        else:
            stored[rule.name] = value
        for bound, comparison, words in ((rule.low, "<", "greater"), (rule.high, ">", "less")):
            if bound is not None:
                reasons.append(
                    sql.SQL("CASE WHEN {value} {op} {bound} THEN {label} || {q} || {m} END").format(
                        value=value,
                        op=sql.SQL(comparison),
                        bound=_number(bound),
                        label=literal(label),
                        q=_quoted(i),
                        m=literal(f" should be {words} than or equal to {_number_text(bound)}"),
                    )
                )
    for earlier, later in spec.record.chronology:
        e, la = ident("v", f"v_{earlier}"), ident("v", f"v_{later}")
        reasons.append(
            sql.SQL(
                "CASE WHEN {la} < {e} THEN format('%s (%s) is before %s (%s)',"
                " {later}, {la_text}, {earlier}, {e_text}) END"
            ).format(
                la=la, e=e, later=literal(later), earlier=literal(earlier), la_text=_iso_utc(la), e_text=_iso_utc(e)
            )
        )

    inner, outer = hmac_keys
    columns: list[str] = []
    level3: list[sql.Composable] = []
    for rule in rules:
        columns.append(rule.name)
        level3.append(sql.SQL("{} AS {}").format(stored[rule.name], ident(rule.name)))
    for email_field, user_id_column in spec.identities.items():
        columns.append(user_id_column)
        level3.append(
            sql.SQL("encode(sha256({outer} || sha256({inner} || convert_to({email}, 'UTF8'))), 'hex') AS {col}").format(
                outer=literal(outer), inner=literal(inner), email=stored[email_field], col=ident(user_id_column)
            )
        )
    columns.append("metadata")
    level3.append(sql.SQL("v.metadata"))
    hashed = sql.SQL(", ").join([*(stored[rule.name] for rule in rules), sql.SQL("v.metadata")])
    columns += ["load_id", "source_file", "source_row_number", "row_hash"]
    level3 += [
        sql.SQL("{}::bigint AS load_id").format(literal(load_id)),
        sql.SQL("{}::text AS source_file").format(literal(file_name)),
        sql.SQL("v.source_row_number"),
        # The hash covers what the source said (values and extra columns), not where or when it was loaded.
        sql.SQL("md5(ROW({})::text) AS row_hash").format(hashed),
        sql.SQL("array_remove(ARRAY[{}]::text[], NULL) AS reasons").format(sql.SQL(", ").join(reasons)),
    ]
    converting = sql.SQL("SELECT {level2} FROM (SELECT {level1} FROM {stage} s) i").format(
        stage=stage, level1=sql.SQL(", ").join(level1), level2=sql.SQL(", ").join(level2)
    )
    checking = sql.SQL("SELECT {level3} FROM {converted} v").format(
        level3=sql.SQL(", ").join(level3), converted=converted
    )
    return CheckedSelect(converting, checking, columns)


def _iso_utc(value: sql.Composable) -> sql.Composable:
    return sql.SQL("to_char({v} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')").format(v=value)


def _json_object(pairs: list[tuple[str, str]]) -> sql.Composable:
    """`jsonb_build_object` of (key, stage column of `s`) pairs, chunked under the 100-argument limit."""
    if not pairs:
        return sql.SQL("'{}'::jsonb")
    return sql.SQL(" || ").join(
        sql.SQL("jsonb_build_object({})").format(
            sql.SQL(", ").join(
                sql.SQL("{}, {}").format(sql.Literal(key), sql.Identifier("s", column))
                for key, column in pairs[start : start + 50]
            )
        )
        for start in range(0, len(pairs), 50)
    )


def raw_record(plan: ColumnPlan) -> sql.Composable:
    """The stage row `s` as read, by header (surplus values as `column_<n>`), for the quarantine."""
    by_header = _json_object([(name, f"c{index + 1}") for index, name in enumerate(plan.headers)])
    return sql.SQL("({}) || coalesce(s.surplus::jsonb, '{{}}'::jsonb)").format(by_header)
