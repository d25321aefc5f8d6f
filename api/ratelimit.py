"""Requests per caller (`TEEI_API_RATE_LIMIT`), counted with the `limits` library: keyed by the token's
subject when the token verifies, else by the client's address. Beyond it: 429 problem+json with
`Retry-After`. Health endpoints are not limited (probes must always get through)."""

from __future__ import annotations

import math
import time

from fastapi import HTTPException, Request
from limits import RateLimitItem, parse_many, storage, strategies

from teei.platform.settings import Settings


class RateLimiter:
    """One sliding-window counter per caller; the storage is shared by every worker when it is Redis."""

    def __init__(self, settings: Settings) -> None:
        self.items: list[RateLimitItem] = parse_many(settings.api_rate_limit)
        self.storage = storage.storage_from_string(settings.api_rate_limit_storage)
        self.strategy = strategies.SlidingWindowCounterRateLimiter(self.storage)

    @staticmethod
    def key(request: Request, subject: str | None) -> str:
        if subject is not None:
            return f"sub:{subject}"
        return f"ip:{request.client.host if request.client else 'unknown'}"

    def hit(self, request: Request, subject: str | None) -> None:
        """Count one request of this caller; 429 when one of the limits is used up."""
        key = self.key(request, subject)
        for item in self.items:
            if not self.strategy.hit(item, key):
                stats = self.strategy.get_window_stats(item, key)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise HTTPException(
                    429,
                    detail=f"rate limit of {item} per caller exceeded; retry in {retry_after} s",
                    headers={"Retry-After": str(retry_after)},
                )
