"""Roster connector: its exports, mapped by `mapping.yaml`."""
