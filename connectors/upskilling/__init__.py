"""Upskilling connector: eCornell and itslearning progress exports, and credentials, mapped by `mapping.yaml`."""

from __future__ import annotations

from pathlib import Path

MAPPING_PATH = Path(__file__).with_name("mapping.yaml")
