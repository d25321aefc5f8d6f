"""The normalised form of a free text and its SHA-256, the same as the dbt model core.texts computes."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# ASCII whitespace and the Unicode spaces, exactly the class of dbt_project/macros/texts.sql: Python's
# own `str.split()` also splits on the information separators (U+001C–U+001F), which SQL does not.
_WHITESPACE = re.compile("[ \t\n\r\f\v\u00a0\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")


def normalise_text(text: str) -> str:
    """Unicode NFC, whitespace runs as one space, trimmed; case is kept."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip(" ")


def text_sha256(text: str) -> str:
    """Hex SHA-256 of the UTF-8 of the normalised text (lone surrogates, which no database can hold,
    are replaced so that a broken text still has a hash)."""
    return hashlib.sha256(normalise_text(text).encode("utf-8", errors="replace")).hexdigest()
