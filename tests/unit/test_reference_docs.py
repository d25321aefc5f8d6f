"""The settings and command reference pages are generated, current, and match `.env.example`."""

from __future__ import annotations

import re
from pathlib import Path

from teei.cli import reference
from teei.devtools.docs import settings as settings_docs
from teei.platform.settings import Settings

CHECKOUT = Path(__file__).resolve().parents[2]


def test_the_committed_settings_page_is_what_the_generator_writes() -> None:
    committed = (CHECKOUT / settings_docs.DOCS_PATH).read_text(encoding="utf-8")
    assert committed == settings_docs.render(), "run `python -m teei.devtools.docs.settings`"


def test_every_setting_says_what_it_does() -> None:
    assert [name for name, field in Settings.model_fields.items() if not field.description] == []


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    example = (CHECKOUT / ".env.example").read_text(encoding="utf-8")
    mentioned = set(re.findall(r"^#? ?((?:TEEI|DAGSTER)_[A-Z0-9_]+)=", example, flags=re.MULTILINE))
    settings = {settings_docs.setting_names(name, field)[0] for name, field in Settings.model_fields.items()}
    assert mentioned == settings


def test_the_committed_command_page_is_what_the_generator_writes() -> None:
    committed = (CHECKOUT / reference.DOCS_PATH).read_text(encoding="utf-8")
    assert committed == reference.render(), "run `python -m teei.cli.reference`"
    for command in ("teei run", "teei generate", "teei services start", "teei db reset", "teei token"):
        assert f"## `{command}`" in committed
