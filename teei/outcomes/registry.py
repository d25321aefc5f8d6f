"""The Q2Q providers by name, as `TEEI_Q2Q_PROVIDER` and `teei eval q2q --provider` name them."""

from __future__ import annotations

from collections.abc import Callable

from teei.outcomes.embedding import embedding_provider
from teei.outcomes.providers import OutcomeProvider
from teei.outcomes.rules import rules_provider

# Each is built on first use and kept (the embedding provider maps its model once per process).
PROVIDERS: dict[str, Callable[[], OutcomeProvider]] = {"rules": rules_provider, "embedding": embedding_provider}


class UnknownProviderError(ValueError):
    """A provider name no provider answers to."""


def get_provider(name: str) -> OutcomeProvider:
    """The provider called `name`."""
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise UnknownProviderError(f"unknown Q2Q provider {name!r}: one of {', '.join(PROVIDERS)}") from None
