"""Pseudonymous identities: the one implementation of `user_id`.

A person is identified outside `pii` only by `user_id` = keyed HMAC-SHA256 of their normalised
email with `TEEI_PSEUDONYM_KEY`. It is computed here, in Python, because the embedded PostgreSQL
has no pgcrypto (SPEC §3); the loader, the API and erasure all call this module.
"""

from __future__ import annotations

import hashlib
import hmac


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased: `Anna.Berg@X.org ` and `anna.berg@x.org` are one person."""
    return email.strip().lower()


def user_id_for_email(email: str, key: bytes) -> str:
    """The pseudonymous `user_id` of the person with `email` (64 hex characters)."""
    return hmac.new(key, normalise_email(email).encode("utf-8"), hashlib.sha256).hexdigest()


class Pseudonymiser:
    """Computes each distinct email's `user_id` once (a load sees the same people many times)."""

    def __init__(self, key: str | bytes) -> None:
        self._key = key.encode("utf-8") if isinstance(key, str) else key
        self._known: dict[str, str] = {}

    def user_id(self, email: str) -> str:
        known = self._known.get(email)
        if known is None:
            known = self._known[email] = user_id_for_email(email, self._key)
        return known
