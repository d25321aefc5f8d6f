"""Sentences, words and lemmas of English and Ukrainian text: what the rules provider matches cues on.

Ukrainian words are lemmatised by pymorphy3 with its Ukrainian dictionaries, keeping *every* parse's
normal form (роботу is both робот and робота); Latin words by simplemma's English data. The script of a
word picks the lemmatiser, so a text mixing both languages is read word by word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import pymorphy3
import simplemma

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+|(?<=[.!?…])(?=[A-ZА-ЯІЇЄҐ])")
_TOKEN = re.compile(r"[^\W\d_]+(?:['’ʼ`-][^\W\d_]+)*|\d+|[^\w\s]")
_CYRILLIC = re.compile(r"[Ѐ-ӿ]")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'"})
# Punctuation that ends a clause (and so a negation scope).
CLAUSE_PUNCTUATION = frozenset('.,;:!?…()[]"«»—–-')


@dataclass(frozen=True)
class Token:
    """A word or punctuation mark of a sentence, lower-cased, with the lemmas of all its parses."""

    text: str
    forms: frozenset[str]
    is_word: bool
    is_cyrillic: bool


@cache
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="uk")


@lru_cache(maxsize=200_000)
def lemmas(word: str) -> frozenset[str]:
    """The word itself and the normal form of each of its parses (lower-case)."""
    if _CYRILLIC.search(word):
        return frozenset({word, *(parse.normal_form for parse in _morph().parse(word))})
    return frozenset({word, simplemma.lemmatize(word, lang="en").lower()})


@lru_cache(maxsize=50_000)
def name_parse_kinds(word: str) -> frozenset[str]:
    """What the parses of a Cyrillic word are: `name` when some parse is tagged a first name or
    patronymic (Name, Patr), `surname` when some is a surname (Surn), `other` when some is no name."""
    kinds: set[str] = set()
    for parse in _morph().parse(word):
        grammemes = set(str(parse.tag).replace(" ", ",").split(","))
        if grammemes & {"Name", "Patr"}:
            kinds.add("name")
        elif "Surn" in grammemes:
            kinds.add("surname")
        else:
            kinds.add("other")
    return frozenset(kinds)


def split_sentences(text: str) -> list[str]:
    """Sentences of a text: split after . ! ? … followed by space, and at line breaks."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


def normalise_word(word: str) -> str:
    """Lower case with one apostrophe (’ ʼ ` are written for ')."""
    return word.translate(_APOSTROPHES).lower()


def tokenize(sentence: str) -> list[Token]:
    """Words (with their lemmas) and punctuation marks of a sentence."""
    tokens = []
    for match in _TOKEN.finditer(sentence):
        raw = normalise_word(match.group())
        is_word = raw[0].isalnum()
        tokens.append(
            Token(
                text=raw,
                forms=lemmas(raw) if is_word else frozenset({raw}),
                is_word=is_word,
                is_cyrillic=bool(_CYRILLIC.search(raw)),
            )
        )
    return tokens
