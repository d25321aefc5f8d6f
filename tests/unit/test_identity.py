"""Pseudonymous user ids: one person, one id, whatever the email's spelling; another key, another id."""

from __future__ import annotations

from teei.identity import Pseudonymiser, user_id_for_email


def test_the_same_person_in_any_spelling_has_one_user_id() -> None:
    assert user_id_for_email("Anna.Berg@X.org ", b"k") == user_id_for_email("anna.berg@x.org", b"k")


def test_the_id_is_a_keyed_hmac_not_a_plain_hash() -> None:
    one, other = user_id_for_email("anna.berg@x.org", b"k1"), user_id_for_email("anna.berg@x.org", b"k2")
    assert one != other
    assert len(one) == 64 and int(one, 16) >= 0
    assert "anna" not in one


def test_the_pseudonymiser_agrees_with_the_function_even_past_its_cache() -> None:
    pseudonyms = Pseudonymiser("k", cache_size=2)
    emails = [f"person{i}@example.org" for i in range(5)] * 2
    assert [pseudonyms.user_id(e) for e in emails] == [user_id_for_email(e, b"k") for e in emails]
