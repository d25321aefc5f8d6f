"""Personal data out of an evidence sentence before it is stored: emails, phone numbers, URLs, the
names of the record's people and personal names in the text become placeholders ([email], [phone],
[url], [name]).

Phone numbers are found by `phonenumbers` (Google's libphonenumber) in the regions the programme's
people write from, so "+47 412 34 567", "067 123 4567" and "(212) 555-0100" are all found while dates,
scores and counts are not. Names in the text are found two ways: the record's people, by every part of
their display name and of their email's local part (olena.kovalenko@… names Olena and Kovalenko), in
any case; and Cyrillic words that pymorphy3's Ukrainian dictionary tags as a first name, surname or
patronymic. Removal errs on the side of privacy: a capitalised word that *can* be a name is removed
("Надія" may be hope or a woman's name), except at the start of a sentence, where every word is
capitalised and only a word that can be a first name or patronymic, or is nothing but a surname, goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

from teei.outcomes.language import lemmas, name_parse_kinds, normalise_word

# Regions whose national formats are tried; an international number (+…) is found in any of them.
PHONE_REGIONS = ("NO", "UA", "GB", "US")

EMAIL_PLACEHOLDER = "[email]"
PHONE_PLACEHOLDER = "[phone]"
URL_PLACEHOLDER = "[url]"
NAME_PLACEHOLDER = "[name]"

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# A scheme or www., or a bare domain with a common top-level domain and an optional path.
_URL = re.compile(
    r"(?:https?://|ftp://|www\.)[^\s<>\"']+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|no|ua|uk|io|info|edu|gov|eu|me|ly|app|dev)\b(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ`-][^\W\d_]+)*")
_CYRILLIC = re.compile(r"[Ѐ-ӿ]")
_NAME_PART = re.compile(r"[^\W\d_]+")
# The sentence's start: nothing but spaces, quotes, brackets or dashes before the word.
_SENTENCE_LEAD = re.compile(r"^[\s\"'«„“(\[—–-]*$")
_REPEATED_NAMES = re.compile(r"\[name\](?:\s+\[name\])+")
# Name parts shorter than this are too often ordinary words (Li, Al, An) to remove wherever they occur.
MIN_NAME_PART = 3


@dataclass(frozen=True)
class Person:
    """One of the record's people as pii.user_identities knows them."""

    email: str | None = None
    display_name: str | None = None


def name_parts(people: Iterable[Person]) -> frozenset[str]:
    """The lower-case words that name the record's people: each part of a display name and of an
    email's local part, three letters or longer."""
    parts: set[str] = set()
    for person in people:
        sources = [person.display_name or ""]
        if person.email and "@" in person.email:
            sources.append(person.email.split("@", 1)[0])
        for source in sources:
            parts |= {normalise_word(part) for part in _NAME_PART.findall(source) if len(part) >= MIN_NAME_PART}
    return frozenset(parts)


def _phone_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for region in PHONE_REGIONS:
        # VALID, not POSSIBLE: a possible number is any string of the right length (a date, an id).
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            spans.append((match.start, match.end))
    return spans


def _replace_spans(text: str, spans: list[tuple[int, int]], placeholder: str) -> str:
    if not spans:
        return text
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces, last = [], 0
    for start, end in merged:
        pieces += [text[last:start], placeholder]
        last = end
    return "".join(pieces) + text[last:]


def _is_name_in_text(word: str, starts_sentence: bool) -> bool:
    """Whether a capitalised Cyrillic word is taken for a personal name (see the module's docstring)."""
    # One letter is a pronoun or a preposition far more often than an initial ("Я", "В").
    if len(word) < 2 or not word[:1].isupper() or not _CYRILLIC.search(word):
        return False
    kinds = name_parse_kinds(word)
    if not starts_sentence:
        return bool(kinds & {"name", "surname"})
    return "name" in kinds or kinds == {"surname"}


def _is_record_name(word: str, names: frozenset[str]) -> bool:
    lowered = normalise_word(word)
    if lowered in names:
        return True
    # Inflected Ukrainian forms of a Cyrillic display name: Олени, Олену are Олена.
    return bool(_CYRILLIC.search(lowered)) and bool(lemmas(lowered) & names)


def scrub_personal_data(text: str, people: Iterable[Person] = ()) -> str:
    """The text with emails, phone numbers, URLs and personal names replaced by placeholders."""
    names = name_parts(people)
    text = _EMAIL.sub(EMAIL_PLACEHOLDER, text)
    text = _URL.sub(URL_PLACEHOLDER, text)
    text = _replace_spans(text, _phone_spans(text), PHONE_PLACEHOLDER)

    pieces, last = [], 0
    for match in _WORD.finditer(text):
        word = match.group()
        before = text[last : match.start()]
        # A placeholder's own word ([name]) is left alone.
        if text[match.start() - 1 : match.start()] == "[" and text[match.end() : match.end() + 1] == "]":
            continue
        preceding = text[: match.start()]
        sentence_lead = re.split(r"[.!?…\n]", preceding)[-1]
        starts_sentence = bool(_SENTENCE_LEAD.match(sentence_lead))
        if _is_record_name(word, names) or _is_name_in_text(word, starts_sentence):
            pieces += [before, NAME_PLACEHOLDER]
            last = match.end()
    pieces.append(text[last:])
    # "Олена Коваленко" is one person: one placeholder.
    return _REPEATED_NAMES.sub(NAME_PLACEHOLDER, "".join(pieces))
