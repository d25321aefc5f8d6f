"""Kintell webhooks: signed deliveries of sessions and ratings, landed through the one loader.

Signatures follow Standard Webhooks: headers `webhook-id`, `webhook-timestamp` (Unix seconds) and
`webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, several separated by
spaces during a key rotation), keyed with `TEEI_WEBHOOK_SECRET` as given (its UTF-8 bytes; the
`standardwebhooks` library verifies, comparing in constant time). A timestamp more than 5 minutes
away from now is refused, so a captured delivery cannot be replayed later.

This router is the HTTP edge only (size limit, signature, the answer); loading a verified delivery
once — idempotent by delivery id, replays answered with the first load — is
`teei.ingest.webhook_delivery.deliver_webhook`, whose errors api.problems maps to problem+json: what the
sender can fix is a 4xx (400 not JSON or too deep, 422 not loadable records), only our faults a 5xx (503
with Retry-After when the database is unavailable), since senders retry 5xx answers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel, Field
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.concurrency import run_in_threadpool

from api.deps import CorrelationIdDep, SettingsDep, WriterEngineDep
from api.problems import problem_responses
from teei.ingest.webhook_delivery import deliver_webhook
from teei.platform.settings import Settings

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

KintellEntity = Literal["sessions", "ratings"]
SIGNATURE_CHALLENGE = 'Webhook-Signature realm="kintell", alg="HMAC-SHA256"'


class WebhookAccepted(BaseModel):
    """What a delivery loaded (or, for a replayed delivery id, what its first delivery loaded)."""

    delivery_id: str
    load_id: int = Field(description="The load in ops.loads (rejected rows: `teei quarantine --load ID`).")
    status: Literal["succeeded", "skipped"] = Field(
        description="skipped: the same body was loaded before (under another delivery id); nothing changed"
    )
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    rows_duplicate: int
    events_staged: int = Field(description="Events this delivery put in the outbox.")
    replayed: bool = Field(description="true when this delivery id was delivered before; nothing was loaded again")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "delivery_id": "msg_2Lh9Kq3",
                    "load_id": 42,
                    "status": "succeeded",
                    "rows_in": 2,
                    "rows_loaded": 1,
                    "rows_quarantined": 1,
                    "rows_duplicate": 0,
                    "events_staged": 1,
                    "replayed": False,
                }
            ]
        }
    }


BODY_EXAMPLE: dict[str, Any] = {
    "sessions": {
        "records": [
            {
                "session_id": "ks-1001",
                "session_type": "language",
                "participant_email": "anna@example.org",
                "volunteer_email": "ola@acme.example",
                "started_at": "2026-10-01T08:00:00Z",
                "completed_at": "2026-10-01T09:00:00Z",
                "duration_minutes": 60,
                "rating": 5,
            }
        ]
    },
    "ratings": [
        {
            "rating_id": "kr-2001",
            "session_id": "ks-1001",
            "from_role": "participant",
            "rating": 5,
            "feedback_text": "Very helpful, I feel more confident speaking.",
            "created_at": "2026-10-01T09:05:00Z",
        }
    ],
}


def kintell_route(entity: KintellEntity) -> None:
    """`POST /v1/webhooks/kintell/<entity>`: one route per entity, so any other path is a plain 404."""

    async def receive(
        request: Request,
        settings: SettingsDep,
        writer: WriterEngineDep,
        correlation_id: CorrelationIdDep,
        webhook_id: Annotated[
            str | None, Header(description="Delivery id (unique per delivery, kept on retries).")
        ] = None,
        webhook_timestamp: Annotated[str | None, Header(description="Unix seconds when it was signed.")] = None,
        webhook_signature: Annotated[str | None, Header(description="v1,<base64 HMAC-SHA256>")] = None,
    ) -> WebhookAccepted:
        return await kintell_webhook(
            request, entity, settings, writer, correlation_id, webhook_id, webhook_timestamp, webhook_signature
        )

    router.add_api_route(
        f"/kintell/{entity}",
        receive,
        methods=["POST"],
        name=f"kintell_webhook_{entity}",
        status_code=202,
        response_model=WebhookAccepted,
        responses=problem_responses(400, 401, 413, 422, 429, 500, 503),
        summary=f"A signed Kintell delivery of {entity} (Standard Webhooks signature)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}, "example": BODY_EXAMPLE[entity]}},
            }
        },
    )


async def kintell_webhook(
    request: Request,
    entity: KintellEntity,
    settings: Settings,
    writer: sa.Engine,
    correlation_id: str,
    webhook_id: str | None,
    webhook_timestamp: str | None,
    webhook_signature: str | None,
) -> WebhookAccepted:
    request.app.state.rate_limiter.hit(request, None)
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.webhook_max_bytes:
        raise HTTPException(status_code=413, detail=f"the body exceeds {settings.webhook_max_bytes} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > settings.webhook_max_bytes:
            raise HTTPException(status_code=413, detail=f"the body exceeds {settings.webhook_max_bytes} bytes")
    if not (webhook_id and webhook_timestamp and webhook_signature):
        raise HTTPException(
            status_code=401,
            detail="webhook-id, webhook-timestamp and webhook-signature headers are required",
            headers={"WWW-Authenticate": SIGNATURE_CHALLENGE},
        )
    verifier = Webhook(settings.webhook_secret.get_secret_value().encode())
    try:
        verifier.verify(
            bytes(body),
            {"webhook-id": webhook_id, "webhook-timestamp": webhook_timestamp, "webhook-signature": webhook_signature},
            json_parse=False,
        )
    except (WebhookVerificationError, ValueError) as exc:  # ValueError: malformed signature or body bytes
        reason = str(exc) if isinstance(exc, WebhookVerificationError) else "malformed signature"
        raise HTTPException(
            status_code=401,
            detail=f"the webhook signature does not verify: {reason}",
            headers={"WWW-Authenticate": SIGNATURE_CHALLENGE},
        ) from exc
    delivered = await run_in_threadpool(
        deliver_webhook,
        writer,
        "kintell",
        entity,
        webhook_id,
        bytes(body),
        correlation_id=correlation_id,
        timezone=settings.tzinfo,
        pseudonym_key=settings.pseudonym_key.get_secret_value(),
    )
    return WebhookAccepted.model_validate(delivered, from_attributes=True)


KINTELL_ENTITIES: tuple[KintellEntity, ...] = ("sessions", "ratings")
for _entity in KINTELL_ENTITIES:
    kintell_route(_entity)
