"""Kintell webhooks: signed deliveries of sessions and ratings, landed through the one loader.

Signatures follow Standard Webhooks: headers `webhook-id`, `webhook-timestamp` (Unix seconds) and
`webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, several separated by
spaces during a key rotation), keyed with `TEEI_WEBHOOK_SECRET` as given (its UTF-8 bytes; the
`standardwebhooks` library verifies, comparing in constant time). A timestamp more than 5 minutes
away from now is refused, so a captured delivery cannot be replayed later.

Idempotent by delivery id: `ops.webhook_deliveries` remembers each delivered id with its load, and a
delivery id seen before answers 202 again with the original load id (`replayed: true`) and changes
nothing — senders retry until they see a 2xx, so a retry must look like success.

The body is JSON, a list of records or `{"records": [...]}`, with the field names the CSV export uses.
It is loaded by `teei.ingest.loader.load_rows` exactly as a file with those columns would be (the same
mapping, checks, quarantine and upsert), then the load's events go to the outbox with the request's
correlation id.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel, Field
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.concurrency import run_in_threadpool

from api.deps import CorrelationIdDep, SettingsDep, WriterEngineDep
from api.problems import problem_responses
from connectors.registry import get_entity
from teei.events.outbox import stage_load_events
from teei.ingest.loader import load_rows
from teei.platform.settings import Settings

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
log = logging.getLogger(__name__)

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


def records_of(body: bytes) -> list[dict[str, Any]]:
    """The records of a delivery body; 422 naming what is wrong with it."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(status_code=422, detail=f"the body is not JSON: {exc}") from exc
    records = document.get("records") if isinstance(document, dict) else document
    if not isinstance(records, list) or not records:
        raise HTTPException(
            status_code=422, detail='the body must be a non-empty list of records, or {"records": [...]}'
        )
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise HTTPException(status_code=422, detail=f"record {number} is not an object")
    return records


def as_cell(value: Any) -> str | None:
    """A JSON value as the text a CSV cell would hold (lists joined like a `;` separated column)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(item) for item in value if item is not None)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def as_table(records: list[dict[str, Any]]) -> tuple[list[str], list[list[str | None]]]:
    header = list(dict.fromkeys(str(name) for record in records for name in record))
    return header, [[as_cell(record.get(name)) for name in header] for record in records]


def previous_delivery(db: sa.Connection, delivery_id: str) -> sa.Row[Any] | None:
    return db.execute(
        sa.text(
            """
            SELECT d.delivery_id, d.load_id, d.events_staged, l.status, l.rows_in, l.rows_loaded,
                   l.rows_quarantined, l.rows_duplicate
              FROM ops.webhook_deliveries d JOIN ops.loads l USING (load_id)
             WHERE d.delivery_id = :id
            """
        ),
        {"id": delivery_id},
    ).first()


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
        responses=problem_responses(401, 413, 422, 429, 503),
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
    if len(webhook_id) > 200:
        raise HTTPException(status_code=422, detail="webhook-id must be at most 200 characters")
    records = records_of(bytes(body))
    return await run_in_threadpool(deliver, writer, settings, entity, webhook_id, bytes(body), records, correlation_id)


def deliver(
    writer: sa.Engine,
    settings: Settings,
    entity: KintellEntity,
    delivery_id: str,
    body: bytes,
    records: list[dict[str, Any]],
    correlation_id: str,
) -> WebhookAccepted:
    """Load one verified delivery once: deliveries of one id are serialised by an advisory lock."""
    spec = get_entity("kintell", entity)
    with writer.connect() as lock:
        lock.execute(sa.text("SELECT pg_advisory_lock(hashtext('webhook:' || :id))"), {"id": delivery_id})
        try:
            lock.commit()
            before = previous_delivery(lock, delivery_id)
            if before is not None:
                log.info("webhook delivery %s replayed; its load was %s", delivery_id, before.load_id)
                return accepted(before, replayed=True)
            header, rows = as_table(records)
            result = load_rows(
                writer,
                header,
                rows,
                spec,
                file_name=f"webhook/kintell/{entity}/{delivery_id}",
                file_sha256=hashlib.sha256(body).hexdigest(),
                timezone=settings.tzinfo,
                pseudonym_key=settings.pseudonym_key.get_secret_value(),
            )
            if result.status == "failed":
                # Not recorded as delivered: the sender's retry loads it again.
                raise HTTPException(status_code=503, detail=f"the delivery could not be loaded ({result.error})")
            load_id = result.load_id
            if result.status == "skipped":
                # The same body came before under another id: its load stands (and its events, once).
                load_id = lock.execute(
                    sa.text(
                        "SELECT load_id FROM ops.loads WHERE source = 'kintell' AND entity = :entity "
                        "AND file_sha256 = :sha AND status = 'succeeded' ORDER BY load_id LIMIT 1"
                    ),
                    {"entity": entity, "sha": result.file_sha256},
                ).scalar_one()
                lock.commit()
            try:
                staged = stage_load_events(writer, spec.raw_table, load_id, correlation_id=correlation_id)
            except Exception:
                # The rows are loaded; the outbox sensor derives the same events (same ids) after the
                # next build, so the delivery still counts as delivered and is not loaded again.
                log.exception("webhook delivery %s: events of load %s not staged now", delivery_id, load_id)
                staged = 0
            with writer.begin() as db:
                db.execute(
                    sa.text(
                        """
                        INSERT INTO ops.webhook_deliveries
                            (delivery_id, source, entity, load_id, events_staged, correlation_id)
                        VALUES (:id, 'kintell', :entity, :load_id, :staged, :correlation_id)
                        """
                    ),
                    {
                        "id": delivery_id,
                        "entity": entity,
                        "load_id": result.load_id,
                        "staged": staged,
                        "correlation_id": correlation_id,
                    },
                )
                row = previous_delivery(db, delivery_id)
            assert row is not None
            log.info("webhook delivery %s loaded as load %s (%s events)", delivery_id, result.load_id, staged)
            return accepted(row, replayed=False)
        finally:
            lock.execute(sa.text("SELECT pg_advisory_unlock(hashtext('webhook:' || :id))"), {"id": delivery_id})
            lock.commit()


def accepted(row: sa.Row[Any], *, replayed: bool) -> WebhookAccepted:
    return WebhookAccepted(
        delivery_id=row.delivery_id,
        load_id=row.load_id,
        status=row.status,
        rows_in=row.rows_in,
        rows_loaded=row.rows_loaded,
        rows_quarantined=row.rows_quarantined,
        rows_duplicate=row.rows_duplicate,
        events_staged=row.events_staged,
        replayed=replayed,
    )


KINTELL_ENTITIES: tuple[KintellEntity, ...] = ("sessions", "ratings")
for _entity in KINTELL_ENTITIES:
    kintell_route(_entity)
