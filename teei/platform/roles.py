"""Names of the database roles that limit what a connection may read (created by migration 0003).

Both roles are NOLOGIN and granted to the user that runs the migrations, so that user can act with
one of them (`teei.platform.database.create_db_engine(..., role=...)` runs `SET ROLE`) without a second password.
A module of its own, free of database imports, so settings can name a default role cheaply.
"""

from __future__ import annotations

PII_READER_ROLE = "teei_pii_reader"
"""The only role that may read `pii` (emails, names): for the admin paths that need identities."""

API_READER_ROLE = "teei_api_reader"
"""What the API reads with: `SELECT` on `core`, nothing on `raw`, `ops`, `staging` or `pii`."""
