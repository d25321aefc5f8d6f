"""Pseudonymous identities: the one implementation of `user_id`.

A person is identified outside `pii` only by `user_id` = keyed HMAC-SHA256 of their normalised
email with `TEEI_PSEUDONYM_KEY`. The embedded PostgreSQL has no pgcrypto, so the bulk loader
builds the same HMAC from PostgreSQL's own `sha256()` with the padded keys `hmac_pads` gives (RFC
2104); everything else calls `user_id_for_email`. A test holds the two to the same result.
"""

from __future__ import annotations

import hashlib
import hmac


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased: `Anna.Berg@X.org ` and `anna.berg@x.org` are one person."""
    return email.strip().lower()


def user_id_for_email(email: str, key: bytes) -> str:
    """The pseudonymous `user_id` of the person with `email` (64 hex characters)."""
    return _user_id_of_normalised(key, email)


def hmac_pads(key: str | bytes) -> tuple[bytes, bytes]:
    """The inner and outer padded keys of HMAC-SHA256 (RFC 2104), so that
    `HMAC(key, m) = sha256(outer || sha256(inner || m))` can be computed where only sha256 exists."""
    secret = key.encode("utf-8") if isinstance(key, str) else key
    if len(secret) > _SHA256_BLOCK:
        secret = hashlib.sha256(secret).digest()
    secret = secret.ljust(_SHA256_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in secret), bytes(b ^ 0x5C for b in secret)


_SHA256_BLOCK = 64


def _user_id_of_normalised(key: bytes, email: str) -> str:
    return hmac.new(key, normalise_email(email).encode("utf-8"), hashlib.sha256).hexdigest()
