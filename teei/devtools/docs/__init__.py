"""Generators of the committed reference pages in `docs/` (each has a test that fails when its page is stale)."""
