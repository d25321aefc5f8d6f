"""CSV uploads into the landing folder, where the landing sensor (and `teei run`) pick them up.

The body is streamed to a hidden temporary file beside its destination, never held in memory, and
renamed into place only when it is complete and looks like an export of the entity: on any failure
(too large, binary, not that entity's columns, the client went away) nothing is left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from datetime import UTC, datetime
from typing import Annotated

import anyio
from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field

from api.auth import AdminDep
from api.deps import SettingsDep
from api.problems import AUTHENTICATED_PROBLEMS, problem_responses
from connectors.csv_reader import CsvFileError, NotTextError, open_export
from connectors.registry import ENTITIES

router = APIRouter(prefix="/v1/imports", tags=["imports"])

# Content types a CSV upload may come with (curl --data-binary sends application/x-www-form-urlencoded
# unless told otherwise, so that is accepted too; the bytes are checked either way).
CSV_CONTENT_TYPES = frozenset(
    {
        "text/csv",
        "text/plain",
        "application/csv",
        "application/vnd.ms-excel",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
    }
)


class ImportAccepted(BaseModel):
    source: str
    entity: str
    path: str = Field(description="Where the file landed, relative to the landing folder.")
    bytes: int
    sha256: str

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "source": "kintell",
                    "entity": "sessions",
                    "path": "kintell/sessions_upload_20261001T080000Z_1a2b3c4d.csv",
                    "bytes": 48213,
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                }
            ]
        }
    }


def content_type_of(request: Request) -> str:
    return request.headers.get("content-type", "text/csv").split(";")[0].strip().lower()


@router.post(
    "/{source}/{entity}",
    status_code=202,
    response_model=ImportAccepted,
    responses=problem_responses(413, 415, *AUTHENTICATED_PROBLEMS),
    summary="Upload an export file (CSV) of one source entity into the landing folder (admin)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "session_id,session_type,participant_email,volunteer_email,completed_at\n"
                    "ks-1,language,anna@example.org,ola@acme.example,2026-10-01T09:00:00Z\n",
                }
            },
        }
    },
)
async def upload_export(
    request: Request,
    source: Annotated[str, Path(description="kintell, buddy, upskilling or roster", examples=["kintell"])],
    entity: Annotated[str, Path(description="The entity, as in the landing file names", examples=["sessions"])],
    caller: AdminDep,
    settings: SettingsDep,
) -> ImportAccepted:
    spec = ENTITIES.get((source, entity))
    if spec is None:
        raise HTTPException(status_code=404, detail=f"no source entity {source}/{entity}")
    if content_type_of(request) not in CSV_CONTENT_TYPES:
        raise HTTPException(status_code=415, detail="upload the file as text/csv")
    limit = settings.upload_max_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise HTTPException(status_code=413, detail=f"the file exceeds the upload limit of {limit} bytes")

    folder = settings.landing_path / spec.source
    await anyio.to_thread.run_sync(lambda: folder.mkdir(parents=True, exist_ok=True))
    # Hidden and not *.csv: the landing sensor never sees a partial upload.
    partial = folder / f".upload-{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        async with await anyio.open_file(partial, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise HTTPException(status_code=413, detail=f"the file exceeds the upload limit of {limit} bytes")
                digest.update(chunk)
                await out.write(chunk)
            await out.flush()
            await anyio.to_thread.run_sync(os.fsync, out.wrapped.fileno())
        if size == 0:
            raise HTTPException(status_code=422, detail="the upload is empty")
        try:
            # The same reader and the same rules as the landing folder's: text or binary, the encoding,
            # the delimiter, and the entity's required columns.
            await anyio.to_thread.run_sync(open_export, partial, spec)
        except CsvFileError as exc:
            raise HTTPException(
                status_code=415 if isinstance(exc, NotTextError) else 422,
                detail=str(exc).replace(partial.name, "the upload"),
            ) from exc
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = folder / f"{spec.file_prefix}_upload_{stamp}_{uuid.uuid4().hex[:8]}.csv"
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return ImportAccepted(
        source=spec.source,
        entity=spec.entity,
        path=target.relative_to(settings.landing_path).as_posix(),
        bytes=size,
        sha256=digest.hexdigest(),
    )
