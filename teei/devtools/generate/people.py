"""The people of a generation: participants, volunteers and the companies they work for.

Everything about a person is derived from the seed and their number, so nothing is held in memory
and every reference (a session's volunteer, a match's buddy) stays consistent across files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contracts.field_kinds import CEFR_LEVELS
from teei.devtools.generate.names import (
    COMPANIES,
    OTHER_NAMES,
    PARTICIPANT_DOMAINS,
    UKRAINIAN_FIRST,
    UKRAINIAN_LAST,
    VOLUNTEER_FIRST,
    VOLUNTEER_LAST,
)
from teei.devtools.generate.randomness import mix, scramble

RATING_DRAWS = (1, 2, 3, 3, 3, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5)
"""How people rate (on 1..5): leaning positive, as they do in the real programme."""

# Salts of the per-person traits.
_DOMAIN, _LEVEL, _LANGUAGE_PARTNER, _MENTOR, _BUDDY, _IN_BUDDY, _COURSES, _COMPANY, _JOINED = range(9)
_SALTS = 9


@dataclass(frozen=True, slots=True)
class NamePool:
    """First and family names whose pool sizes are coprime, so `k mod len(first)` and `k mod
    len(last)` together tell every `k < len(first) * len(last)` apart: distinct people, distinct names."""

    first: tuple[Any, ...]
    last: tuple[Any, ...]
    unit: int  # a seeded multiplier coprime to the number of combinations, and a seeded offset:
    offset: int  # another seed gives other people

    @classmethod
    def seeded(cls, first: tuple[Any, ...], last: tuple[Any, ...], seed: int, salt: int) -> NamePool:
        combinations = len(first) * len(last)
        if math.gcd(len(first), len(last)) != 1:
            raise ValueError("name pools need coprime sizes")
        unit = mix(seed, 200 + salt) % combinations
        while math.gcd(unit, combinations) != 1:
            unit += 1
        return cls(first, last, unit, mix(seed, 100 + salt) % combinations)

    def name(self, index: int) -> tuple[Any, Any, int]:
        """The `index`-th (first, last, repeat): a number is added to the address once names run out."""
        first, last = self.first, self.last
        repeat, place = divmod(index, len(first) * len(last))
        k = (place * self.unit + self.offset) % (len(first) * len(last))
        return first[k % len(first)], last[k % len(last)], repeat


class Population:
    """Who takes part: participants `0..participants-1`, volunteers `0..volunteers-1` working for
    companies `0..companies-1`. Everything about a person is derived from the seed and their number,
    so nothing is held in memory and every reference (a session's volunteer) stays consistent."""

    def __init__(self, seed: int, *, participants: int, volunteers: int, companies: int) -> None:
        if participants < 1 or volunteers < 1 or not 1 <= companies <= len(COMPANIES):
            raise ValueError("a population needs participants, volunteers and 1 to 12 companies")
        self.seed, self.participants, self.volunteers, self.companies = seed, participants, volunteers, companies
        # Which companies take part, in a seeded order: (code, name, email domain, industry, country).
        self.company_rows = sorted(COMPANIES, key=lambda row: mix(seed, 300, COMPANIES.index(row)))[:companies]
        self._salted = [mix(seed, salt) for salt in range(_SALTS)]
        # Mostly Ukrainian; one in twenty each with an Arabic, a Farsi and a Tigrinya name.
        self._others = [NamePool.seeded(first, last, seed, n + 1) for n, (first, last) in enumerate(OTHER_NAMES)]
        self._ukrainian = NamePool.seeded(UKRAINIAN_FIRST, UKRAINIAN_LAST, seed, 0)
        self._staff = NamePool.seeded(VOLUNTEER_FIRST, VOLUNTEER_LAST, seed, 9)

    def trait(self, salt: int, index: int) -> int:
        """A 64-bit number fixed for (seed, salt, index)."""
        return scramble(self._salted[salt] ^ index)

    def share(self, salt: int, index: int) -> float:
        """A number in [0, 1) fixed for (seed, salt, index)."""
        return (self.trait(salt, index) >> 11) / float(1 << 53)

    def _participant_name(self, p: int) -> tuple[str, str, int]:
        block, place = divmod(p, 20)
        if place < 3:
            return self._others[place].name(block)
        return self._ukrainian.name(block * 17 + place - 3)

    def participant_email(self, p: int) -> str:
        first, last, repeat = self._participant_name(p)
        domain = PARTICIPANT_DOMAINS[self.trait(_DOMAIN, p) % len(PARTICIPANT_DOMAINS)]
        return f"{first}.{last}{repeat + 1 if repeat else ''}@{domain}"

    def participant_name(self, p: int) -> str:
        first, last, _ = self._participant_name(p)
        return f"{first.title()} {last.title()}"

    def level(self, p: int, month: int) -> str:
        """The CEFR level a participant speaks at in month `month` (0-based); a third improve monthly."""
        trait = self.trait(_LEVEL, p)
        base, improving = (0, 0, 1, 1, 1, 2, 2, 3, 4)[trait % 9], (trait >> 8) % 3 == 0
        return CEFR_LEVELS[min(len(CEFR_LEVELS) - 1, base + (month if improving else 0))]

    def language_partner(self, p: int) -> int:
        return self.trait(_LANGUAGE_PARTNER, p) % self.volunteers

    def mentor(self, p: int) -> int:
        return self.trait(_MENTOR, p) % self.volunteers

    def buddy(self, p: int) -> int:
        return self.trait(_BUDDY, p) % self.volunteers

    def in_buddy_programme(self, p: int) -> bool:
        return self.share(_IN_BUDDY, p) < 0.55

    def takes_courses(self, p: int) -> bool:
        return self.share(_COURSES, p) < 0.5

    def company(self, v: int) -> int:
        """The company (an index of `company_rows`) volunteer `v` works for: each has one, the first most."""
        if v < self.companies:
            return v
        return int(self.companies * self.share(_COMPANY, v) ** 1.6)

    def volunteer_email(self, v: int) -> str:
        (_, first), (_, last), repeat = self._staff.name(v)
        return f"{first}.{last}{repeat + 1 if repeat else ''}@{self.company_rows[self.company(v)][2]}"

    def volunteer_name(self, v: int) -> str:
        (first, _), (last, _), _ = self._staff.name(v)
        return f"{first} {last}"

    def volunteer_joined(self, v: int) -> date:
        return date(2025, 1, 6) + timedelta(days=self.trait(_JOINED, v) % 570)


def population_for(scale: int, seed: int) -> Population:
    """The people of `scale` participants: a few companies, one volunteer for about four participants."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    companies = min(len(COMPANIES), 3 + math.isqrt(scale) // 8)
    return Population(seed, participants=scale, volunteers=max(companies, -(-scale // 4)), companies=companies)
