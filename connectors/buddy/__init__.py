"""Buddy programme connector: its exports, mapped by `mapping.yaml`."""

from __future__ import annotations

from pathlib import Path

MAPPING_PATH = Path(__file__).with_name("mapping.yaml")
