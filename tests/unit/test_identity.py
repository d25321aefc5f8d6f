"""Pseudonymous user ids: one person, one id, whatever the email's spelling; another key, another id."""

from __future__ import annotations

import hashlib

from teei.ingest.identity import hmac_pads, user_id_for_email


def test_the_same_person_in_any_spelling_has_one_user_id() -> None:
    assert user_id_for_email("Anna.Berg@X.org ", b"k") == user_id_for_email("anna.berg@x.org", b"k")


def test_the_id_is_a_keyed_hmac_not_a_plain_hash() -> None:
    one, other = user_id_for_email("anna.berg@x.org", b"k1"), user_id_for_email("anna.berg@x.org", b"k2")
    assert one != other
    assert len(one) == 64 and int(one, 16) >= 0
    assert "anna" not in one


def test_the_padded_keys_rebuild_the_hmac_from_plain_sha256() -> None:
    # What the loader does in SQL with PostgreSQL's sha256(); long keys are hashed first (RFC 2104).
    for key in (b"k", b"x" * 64, "nøkkel-".encode() * 20):
        inner, outer = hmac_pads(key)
        message = b"anna.berg@x.org"
        rebuilt = hashlib.sha256(outer + hashlib.sha256(inner + message).digest()).hexdigest()
        assert rebuilt == user_id_for_email("anna.berg@x.org", key)
