"""The generator's only randomness: `random.Random(seed).random()`, and integer hashes of (seed, thing).

`random()` is the one method whose sequence Python promises to keep for a seed (`randrange`,
`choice`, `sample` have changed between versions), so every choice is made from it (`Dice`);
everything fixed about a thing (a person's traits) is a 64-bit hash instead (`mix`), so nothing
needs to be remembered and the same arguments give the same bytes forever.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

MASK64 = (1 << 64) - 1


def scramble(value: int) -> int:
    """splitmix64's finaliser: a well-mixed 64-bit integer from any 64-bit integer."""
    value = (value + 0x9E3779B97F4A7C15) & MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


def mix(*parts: int) -> int:
    """A 64-bit hash of integers, the same on every platform and Python version."""
    mixed = 0
    for part in parts:
        mixed = scramble(mixed ^ (part & MASK64))
    return mixed


class Dice:
    """Random choices made from `random.Random(seed).random()` alone (see the module doc)."""

    __slots__ = ("random",)

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed).random

    def below(self, n: int) -> int:
        """0 to n - 1."""
        return int(self.random() * n)

    def between(self, low: int, high: int) -> int:
        """low to high, both included."""
        return low + int(self.random() * (high - low + 1))

    def chance(self, probability: float) -> bool:
        """True with `probability`."""
        return self.random() < probability

    def pick(self, items: Sequence[T]) -> T:
        """One of `items`."""
        return items[int(self.random() * len(items))]

    def some(self, items: Sequence[T], count: int) -> list[T]:
        """`count` different items, in the order drawn."""
        pool = list(items)
        return [pool.pop(int(self.random() * len(pool))) for _ in range(min(count, len(pool)))]
