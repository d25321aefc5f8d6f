"""Buddy programme connector: its exports, mapped by `mapping.yaml`."""
