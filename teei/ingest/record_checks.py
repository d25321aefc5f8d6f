"""A source record's rules as one set-based SQL statement over a staged export.

The loader stages an export's records as text (one column per header column) and this module
turns the entity's record into the SELECT that reads them: each field is found by the column plan,
trimmed, normalised by the connector's mapping and converted by its kind, and every broken rule
becomes a reason naming the field and the value as the source wrote it. A row with no reasons is a
valid record; its user ids (HMAC of the normalised email, see `teei.ingest.identity`) and row hash
are computed in the same pass.

The rules are the record's, read by `contracts.fields.field_rules`: required fields, `Literal` enums
(with the mapping's spellings), `ge`/`le` bounds, the record's `chronology`, and each field's kind,
whose SQL comes from the one rule table (`contracts.field_kinds`, its Python reading beside it).
This module only composes those templates; the pydantic record validated with the same values is
the oracle the property tests hold this SQL to. Scores are on 0..1 in a file whose column holds
only values within 0..1, at least one of them fractional or 0; otherwise on the mapping's scale.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from connectors.csv_reader import ColumnPlan
from connectors.mapping import normalise_header
from connectors.registry import EntitySpec
from contracts.field_kinds import NUMBER, OFF_SCALE, SCORE_SCALE, TRIMMED_SQL, WHITESPACE, FieldKind, Kind
from contracts.fields import FieldRule, field_rules

ZERO_TO_ONE = (0.0, 1.0)


def kind_expression(template: str, field_kind: FieldKind, **parts: sql.Composable) -> sql.Composed:
    """One of `field_kind`'s SQL templates (its `sql`, say) composed with `parts` (`v`, the trimmed
    text) and the kind's pattern as `{pattern}`."""
    if field_kind.pattern is not None:
        parts["pattern"] = sql.Literal(field_kind.pattern)
    return sql.SQL(template).format(**parts)


def scale_query(fields: dict[str, sql.Composable], stage: sql.Composable) -> sql.Composed:
    """One row: per score field, whether the file's column is on 0..1 (see the module doc)."""
    checks = []
    for expression in fields.values():
        number = kind_expression(NUMBER.sql, NUMBER, v=expression)
        checks.append(
            sql.SQL("coalesce(bool_and({n} BETWEEN 0 AND 1) AND bool_or({n} = 0 OR {n} <> trunc({n})), false)").format(
                n=number
            )
        )
    return sql.SQL("SELECT {} FROM {} s").format(sql.SQL(", ").join(checks), stage)


def _trimmed(column: sql.Composable) -> sql.Composable:
    return sql.SQL(TRIMMED_SQL).format(v=column, whitespace=sql.Literal(WHITESPACE))


def field_inputs(spec: EntitySpec, plan: ColumnPlan) -> dict[str, sql.Composable]:
    """Each field's trimmed text in the stage (`s.c<n>`), its mapping constant, or NULL."""
    inputs: dict[str, sql.Composable] = {}
    for rule in field_rules(spec.record):
        if rule.name in plan.fields:
            inputs[rule.name] = _trimmed(sql.Identifier("s", f"c{plan.fields[rule.name] + 1}"))
        elif rule.name in plan.constants:
            inputs[rule.name] = sql.Literal(plan.constants[rule.name])
        else:
            inputs[rule.name] = sql.SQL("NULL::text")
    return inputs


def _typed(rule: FieldRule, spec: EntitySpec, v: sql.Composable) -> sql.Composable:
    """The expression converting input `v` to the field's value; NULL when it does not convert."""
    if rule.kind != Kind.ENUM:
        return kind_expression(rule.field_kind.sql, rule.field_kind, v=v)
    spellings = {normalise_header(choice): choice for choice in rule.choices}
    spellings.update(spec.mapping.values.get(rule.name, {}))
    cases = sql.SQL(" ").join(
        sql.SQL("WHEN {} THEN {}").format(sql.Literal(spelling), sql.Literal(choice))
        for spelling, choice in sorted(spellings.items())
        if choice in rule.choices
    )
    choices = sql.SQL(", ").join(map(sql.Literal, rule.choices))
    return kind_expression(rule.field_kind.sql, rule.field_kind, v=v, choices=choices, cases=cases)


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
    rules = field_rules(spec.record)
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
        field_kind = rule.field_kind
        if field_kind.refusal is not None:
            refusal = field_kind.refusal
            if rule.choices:
                refusal = refusal.format(choices=_choices_text(rule.choices))
            reasons.append(
                sql.SQL("CASE WHEN {i} IS NOT NULL AND {value} IS NULL THEN {label} || {q} || {m} END").format(
                    i=i, value=value, label=literal(label), q=_quoted(i), m=literal(" " + refusal)
                )
            )
        scale: dict[str, sql.Composable] = {}
        if rule.kind == Kind.SCORE:
            low, high = ZERO_TO_ONE if rule.name in zero_to_one else spec.mapping.scales.get(rule.name, SCORE_SCALE)
            scale = {"low": _number(low), "high": _number(high)}
            off_scale = OFF_SCALE.format(low=_number_text(low), high=_number_text(high))
            reasons.append(
                sql.SQL("CASE WHEN {value} NOT BETWEEN {low} AND {high} THEN {label} || {q} || {m} END").format(
                    value=value, label=literal(label), q=_quoted(i), m=literal(" " + off_scale), **scale
                )
            )
        stored[rule.name] = sql.SQL(field_kind.stored).format(value=value, **scale)
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
