"""docs/schema.md is generated from the dbt manifest: entities, keys and edges come from the models' yml."""

from __future__ import annotations

from typing import Any

import pytest

from teei.devtools.docs.schema import DOCS_PATH, MANIFEST_PATH, load_manifest, mermaid_type, render_schema_docs


def _model(name: str, schema: str, columns: dict[str, str | None], description: str = "") -> dict[str, Any]:
    return {
        "resource_type": "model",
        "package_name": "shop",
        "name": name,
        "schema": schema,
        "description": description,
        "config": {"materialized": "table"},
        "columns": {
            column: {"name": column, "description": f"the {column}", "data_type": data_type}
            for column, data_type in columns.items()
        },
    }


def _test(
    name: str, model: str, column: str | None, depends_on: list[str] | None = None, **kwargs: Any
) -> tuple[str, dict[str, Any]]:
    unique_id = f"test.shop.{name}_{model}_{column}"
    node = {
        "resource_type": "test",
        "package_name": "shop",
        "name": f"{name}_{model}_{column}",
        "column_name": column,
        "attached_node": f"model.shop.{model}",
        "depends_on": {"nodes": depends_on or [f"model.shop.{model}"]},
        "config": {"severity": "ERROR"},
        "test_metadata": {"name": name, "namespace": None, "kwargs": {"column_name": column, **kwargs}},
    }
    return unique_id, node


def _relationship(model: str, column: str, to: str, field: str) -> tuple[str, dict[str, Any]]:
    return _test(
        "relationships",
        model,
        column,
        depends_on=[f"model.shop.{to}", f"model.shop.{model}"],
        to=f"ref('{to}')",
        field=field,
    )


@pytest.fixture
def manifest() -> dict[str, Any]:
    nodes = {
        "model.shop.users": _model(
            "users", "core", {"user_id": None, "email": "text", "manager_id": None}, description="One row per user."
        ),
        "model.shop.orders": _model(
            "orders",
            "core",
            {
                "order_id": "bigint",
                "user_id": None,
                "amount": "numeric(12, 2)",
                "placed_at": "timestamp with time zone",
            },
        ),
        "model.shop.user_identities": _model("user_identities", "pii", {"user_id": None, "full_name": None}),
        "model.shop.stg_orders": _model("stg_orders", "staging", {"order_id": None, "customer_id": None}),
        "seed.shop.countries": {
            **_model("countries", "core", {"code": "char(2)"}),
            "resource_type": "seed",
            "config": {"materialized": "seed"},
        },
        "model.other_package.ignored": {**_model("ignored", "core", {"x": None}), "package_name": "other_package"},
    }
    tests = [
        _test("unique", "users", "user_id"),
        _test("not_null", "users", "user_id"),
        _test("unique", "users", "email"),
        _test("not_null", "users", "email"),
        # A self-reference lists the model once among its dependencies.
        _test("relationships", "users", "manager_id", to="ref('users')", field="user_id"),
        _test("unique", "orders", "order_id"),
        _test("not_null", "orders", "order_id"),
        _test("accepted_values", "orders", "amount", values=["1", "2"]),
        _relationship("orders", "user_id", "users", "user_id"),
        _test("unique", "user_identities", "user_id"),
        _test("not_null", "user_identities", "user_id"),
        _relationship("user_identities", "user_id", "users", "user_id"),
        # Unique alone is no primary key.
        _test("unique", "stg_orders", "order_id"),
        _relationship("stg_orders", "customer_id", "users", "user_id"),
    ]
    return {"metadata": {"project_name": "shop"}, "nodes": {**nodes, **dict(tests)}, "sources": {}}


def _diagram(text: str) -> list[str]:
    start = text.index("```mermaid\n")
    return [line.strip() for line in text[start : text.index("```\n", start + 3)].splitlines()]


def _entities(text: str) -> dict[str, list[str]]:
    """Each entity of the diagram with its attribute lines."""
    entities: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in _diagram(text):
        if line.endswith(" {"):
            current = entities.setdefault(line.removesuffix(" {"), [])
        elif line == "}":
            current = None
        elif current is not None:
            current.append(line)
    return entities


def test_entities_are_the_core_and_pii_models_with_their_columns(manifest: dict[str, Any]) -> None:
    text = render_schema_docs(manifest)
    assert _diagram(text)[1] == "erDiagram"
    entities = _entities(text)
    # Seeds of a diagram schema are entities too; staging and other packages' models are not.
    assert list(entities) == ["countries", "orders", "user_identities", "users"]
    # Declared types are sanitised; undeclared ones default to text.
    assert entities["orders"] == [
        "bigint order_id PK",
        "text user_id FK",
        "numeric amount",
        "timestamp_with_time_zone placed_at",
    ]
    assert entities["countries"] == ["char code"]


def test_the_primary_key_is_the_first_unique_and_not_null_column(manifest: dict[str, Any]) -> None:
    entities = _entities(render_schema_docs(manifest))
    # email is unique and not null too, but a table has one primary key: the others are unique keys.
    assert entities["users"] == ["text user_id PK", "text email UK", "text manager_id FK"]
    assert entities["user_identities"] == ["text user_id PK, FK", "text full_name"]


def test_relationships_tests_are_many_to_one_edges(manifest: dict[str, Any]) -> None:
    diagram = _diagram(render_schema_docs(manifest))
    edges = [line for line in diagram if "--" in line]
    assert edges == [
        'orders }o--|| users : "user_id"',
        'user_identities }o--|| users : "user_id"',
        'users }o--|| users : "manager_id"',
    ]


def test_every_schema_has_a_section_with_columns_and_tests(manifest: dict[str, Any]) -> None:
    text = render_schema_docs(manifest)
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[1:] == ["## Schema `staging`", "## Schema `core`", "## Schema `pii`", "## Seeds"]
    assert "### `core.users` (table)\n\nOne row per user." in text
    assert "| `amount` | numeric(12, 2) | the amount | `accepted_values` (`1`, `2`) |" in text
    assert "| `customer_id` |  | the customer_id | `relationships` → `users.user_id` |" in text
    assert "| `user_id` |  | the user_id | `not_null`, `unique` |" in text


def test_the_output_is_deterministic(manifest: dict[str, Any]) -> None:
    reordered = {**manifest, "nodes": dict(reversed(list(manifest["nodes"].items())))}
    assert render_schema_docs(reordered) == render_schema_docs(manifest)


@pytest.mark.parametrize(
    ("data_type", "expected"),
    [
        (None, "text"),
        ("", "text"),
        ("numeric(5,4)", "numeric"),
        ("character varying(255)", "character_varying"),
        ("TIMESTAMP WITH TIME ZONE", "timestamp_with_time_zone"),
        ("text[]", "text_array"),
        ("jsonb", "jsonb"),
    ],
)
def test_mermaid_types_have_no_spaces_or_parentheses(data_type: str | None, expected: str) -> None:
    assert mermaid_type(data_type) == expected


def test_the_committed_schema_doc_is_what_the_generator_writes() -> None:
    assert MANIFEST_PATH.exists(), "run `make install` (dbt parse writes the manifest)"
    expected = render_schema_docs(load_manifest())
    assert DOCS_PATH.read_text(encoding="utf-8") == expected, (
        "run `make docs` (or `python -m teei.devtools.docs.schema`)"
    )
