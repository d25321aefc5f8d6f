"""The API's edges, on a migrated database with no dbt build: every JWT fault, `teei token`, rate limits,
correlation ids in responses and logs, problem+json for every error, signed Kintell webhooks (rows in
raw, events in the outbox, replays, stale and forged deliveries) and streamed CSV uploads."""

from __future__ import annotations

import base64
import codecs
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
import redis
import sqlalchemy as sa
from api_fixtures import JWT_SECRET, WEBHOOK_SECRET, api_settings, assert_problem, bearer, token
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook
from typer.testing import CliRunner

from api.app import create_app
from connectors.csv_reader import open_export
from connectors.registry import entity_for_file, get_entity
from teei.cli.main import app as teei_cli
from teei.devtools.services import free_port
from teei.ingest.webhook_delivery import MAX_JSON_DEPTH
from teei.platform.database import create_db_engine
from teei.platform.settings import Settings, get_settings

pytestmark = pytest.mark.integration

USER = "a" * 64


@dataclass
class Api:
    url: str
    engine: sa.Engine
    settings: Settings
    client: TestClient
    home: Path


@pytest.fixture(scope="module")
def api(make_database: Any, nats_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    url = make_database()
    home = tmp_path_factory.mktemp("api-security")
    settings = api_settings(url, nats_server.url, home, upload_max_bytes=4096)
    engine = create_db_engine(url, application_name="teei-api-tests")
    with TestClient(create_app(settings)) as client:
        yield Api(url, engine, settings, client, home)
    engine.dispose()


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "someone", "role": "admin", "aud": "teei-api", "iss": "teei", "iat": now, "exp": now + 600}
    return {k: v for k, v in (base | changes).items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any], alg: str = "none") -> str:
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(payload).encode())}."


# --- authentication --------------------------------------------------------------------------------

PROTECTED = "/v1/companies/ACM/metrics"

JWT_FAULTS = {
    "alg none": lambda: unsigned(claims()),
    "alg none, upper case": lambda: unsigned(claims(), "NONE"),
    "wrong algorithm (HS512)": lambda: jwt.encode(claims(), JWT_SECRET * 2, algorithm="HS512"),
    "wrong audience": lambda: jwt.encode(claims(aud="someone-else"), JWT_SECRET, algorithm="HS256"),
    "wrong issuer": lambda: jwt.encode(claims(iss="evil"), JWT_SECRET, algorithm="HS256"),
    "expired": lambda: jwt.encode(claims(exp=int(time.time()) - 3600), JWT_SECRET, algorithm="HS256"),
    "missing exp": lambda: jwt.encode(claims(exp=None), JWT_SECRET, algorithm="HS256"),
    "missing aud": lambda: jwt.encode(claims(aud=None), JWT_SECRET, algorithm="HS256"),
    "missing iss": lambda: jwt.encode(claims(iss=None), JWT_SECRET, algorithm="HS256"),
    "bad signature": lambda: jwt.encode(claims(), "another-secret-that-is-long-enough-for-hs256", algorithm="HS256"),
    "not a JWT": lambda: "not-a-token",
    "unknown role": lambda: jwt.encode(claims(role="superuser"), JWT_SECRET, algorithm="HS256"),
    "company user without company": lambda: jwt.encode(claims(role="company_user"), JWT_SECRET, algorithm="HS256"),
    "participant without user id": lambda: jwt.encode(
        claims(role="participant", user_id="anna@example.org"), JWT_SECRET, algorithm="HS256"
    ),
}


@pytest.mark.parametrize("fault", JWT_FAULTS)
def test_every_token_fault_is_a_401_problem_with_a_bearer_challenge(api: Api, fault: str) -> None:
    response = api.client.get(PROTECTED, headers=bearer(JWT_FAULTS[fault]()))
    body = assert_problem(response, 401)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    assert body["detail"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic YWRtaW46YWRtaW4="}, {"Authorization": "Bearer "}])
def test_no_bearer_token_is_a_401_problem(api: Api, headers: dict[str, str]) -> None:
    response = api.client.get(PROTECTED, headers=headers)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer realm=")


def test_a_valid_token_passes(api: Api) -> None:
    # No dbt build here: past authentication the API says the shared schema is missing.
    response = api.client.get(PROTECTED, headers=bearer(token(api.settings, "admin")))
    assert "run the pipeline" in assert_problem(response, 503)["detail"]


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_a_numeric_date_written_as_text_is_a_401_problem(api: Api, claim: str) -> None:
    # RFC 7519 NumericDate is a JSON number; PyJWT alone would read "1767225600" as one.
    now = int(time.time())
    as_text = {"exp": str(now + 600), "nbf": str(now - 60), "iat": str(now)}[claim]
    response = api.client.get(PROTECTED, headers=bearer(jwt.encode(claims(**{claim: as_text}), JWT_SECRET)))
    body = assert_problem(response, 401)
    assert f"'{claim}'" in body["detail"] and "number" in body["detail"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    # the same token with numbers passes authentication (503: no schema built in this database)
    numeric = claims(**{claim: int(as_text)})
    assert api.client.get(PROTECTED, headers=bearer(jwt.encode(numeric, JWT_SECRET))).status_code == 503


def pem(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.mark.parametrize("kind", ["RS256", "ES256"])
def test_a_public_key_pins_its_own_algorithm(api: Api, kind: str) -> None:
    private = rsa.generate_private_key(65537, 2048) if kind == "RS256" else ec.generate_private_key(ec.SECP256R1())
    public = pem(private)
    settings = api.settings.model_copy(update={"jwt_public_key": public})
    with TestClient(create_app(settings)) as client:
        good = client.get(PROTECTED, headers=bearer(jwt.encode(claims(), private, algorithm=kind)))
        assert good.status_code == 503, good.text  # authenticated; the schema is not built
        # The classic confusion: an HS256 token keyed with the (public) PEM text.
        header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64(json.dumps(claims()).encode())
        mac = hmac.new(public.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
        assert_problem(client.get(PROTECTED, headers=bearer(f"{header}.{body}.{b64(mac)}")), 401)
        assert_problem(client.get(PROTECTED, headers=bearer(token(api.settings, "admin"))), 401)
        assert_problem(client.get(PROTECTED, headers=bearer(unsigned(claims()))), 401)


def test_teei_token_mints_what_the_api_accepts(api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEEI_JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("TEEI_DATABASE_URL", api.url)
    get_settings.cache_clear()
    minted = CliRunner().invoke(teei_cli, ["token", "--role", "company_user", "--company", "ACM", "--ttl", "120"])
    assert minted.exit_code == 0, minted.output
    claims_ = jwt.decode(minted.output.strip(), JWT_SECRET, algorithms=["HS256"], audience="teei-api")
    assert claims_["company_id"] == "ACM" and claims_["exp"] - claims_["iat"] == 120
    assert api.client.get(PROTECTED, headers=bearer(minted.output.strip())).status_code == 503

    assert CliRunner().invoke(teei_cli, ["token", "--role", "company_user"]).exit_code == 2
    assert CliRunner().invoke(teei_cli, ["token", "--role", "root"]).exit_code == 2
    monkeypatch.setenv("TEEI_JWT_PUBLIC_KEY", pem(ec.generate_private_key(ec.SECP256R1())))
    refused = CliRunner().invoke(teei_cli, ["token", "--role", "admin"])
    assert refused.exit_code == 1 and "TEEI_JWT_PUBLIC_KEY" in refused.output
    get_settings.cache_clear()


# --- rate limits, correlation ids, problem+json -----------------------------------------------------


def test_a_caller_over_the_rate_limit_gets_429_with_retry_after(api: Api) -> None:
    settings = api.settings.model_copy(update={"api_rate_limit": "3/minute"})
    with TestClient(create_app(settings)) as client:
        first = bearer(token(settings, "admin"))
        for _ in range(3):
            assert client.get(PROTECTED, headers=first).status_code == 503
        limited = client.get(PROTECTED, headers=first)
        assert_problem(limited, 429)
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # another caller has a counter of their own; health is never limited
        other = bearer(token(settings, "company_user", company_id="ACM"))
        assert client.get(PROTECTED, headers=other).status_code == 503  # (its own company; no schema yet)
        assert all(client.get("/health").status_code == 200 for _ in range(5))
        # anonymous callers are counted by address, so guessing tokens is limited too
        statuses = [client.get(PROTECTED, headers=bearer("guess")).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]


def test_workers_share_one_rate_limit_through_redis(api: Api, redis_url: str) -> None:
    settings = api.settings.model_copy(update={"api_rate_limit": "3/minute", "api_rate_limit_storage": redis_url})
    caller = bearer(token(settings, "admin"))
    # Two app instances, as two uvicorn workers would be: one counter, kept in Redis.
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        assert [first.get(PROTECTED, headers=caller).status_code for _ in range(2)] == [503, 503]
        assert second.get(PROTECTED, headers=caller).status_code == 503  # the third request of the minute
        limited = second.get(PROTECTED, headers=caller)
        assert_problem(limited, 429)
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert_problem(first.get(PROTECTED, headers=caller), 429)
    with redis.Redis.from_url(redis_url) as client:
        assert list(client.scan_iter(match="LIMITS*"))  # the counters are Redis's, not a worker's


def test_the_correlation_id_is_returned_on_every_response(api: Api) -> None:
    sent = {"X-Correlation-ID": "trace-123"}
    for response in (
        api.client.get("/health", headers=sent),
        api.client.get("/v1/nothing-here", headers=sent),
        api.client.get(PROTECTED, headers=sent),
        api.client.delete("/health", headers=sent),
    ):
        assert response.headers["x-correlation-id"] == "trace-123"
    generated = api.client.get("/health", headers={"X-Correlation-ID": "bad id\twith spaces"})
    assert generated.headers["x-correlation-id"] != "bad id\twith spaces"
    assert len(generated.headers["x-correlation-id"]) == 36


def test_unknown_routes_wrong_methods_and_bad_input_are_problems(api: Api) -> None:
    assert_problem(api.client.get("/v1/nothing-here"), 404)
    wrong_method = api.client.delete("/health")
    assert_problem(wrong_method, 405)
    assert wrong_method.headers["allow"] == "GET"
    admin = bearer(token(api.settings, "admin"))
    body = assert_problem(api.client.get("/v1/profiles", params={"limit": 0}, headers=admin), 422)
    assert body["errors"][0]["location"] == "query.limit"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        # A literal path beside a templated one (`/v1/profiles/{user_id}`): the literal one owns it.
        ("DELETE", "/v1/profiles/mappings", "POST"),
        ("GET", "/v1/profiles/mappings", "POST"),
        ("PUT", "/v1/profiles/mappings", "POST"),
        ("DELETE", f"/v1/profiles/{USER}", "GET"),
        ("POST", f"/v1/profiles/{USER}/flags", "PUT"),
        ("GET", "/v1/webhooks/kintell/sessions", "POST"),
    ],
)
def test_a_wrong_method_is_a_405_naming_the_methods_of_that_path(api: Api, method: str, path: str, allow: str) -> None:
    response = api.client.request(method, path, headers=bearer(token(api.settings, "admin")))
    body = assert_problem(response, 405)
    assert response.headers["allow"] == allow
    assert allow in body["detail"]


# --- webhooks --------------------------------------------------------------------------------------


def signed(
    body: bytes, delivery_id: str, *, at: datetime | None = None, secret: str = WEBHOOK_SECRET
) -> dict[str, str]:
    moment = at or datetime.now(UTC)
    signature = Webhook(secret.encode()).sign(delivery_id, moment, body.decode())
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }


SESSIONS: list[dict[str, Any]] = [
    {
        "session_id": "WH-1",
        "session_type": "Language Connect",
        "participant_email": "wh.anna@example.org",
        "volunteer_email": "wh.ola@acme.example",
        "started_at": "2026-10-01T08:00:00Z",
        "completed_at": "2026-10-01T09:00:00Z",
        "duration_minutes": 60,
        "rating": 5,
        "topics": ["travel", "work"],
    },
    {
        "session_id": "WH-2",
        "session_type": "language",
        "participant_email": "wh.anna@example.org",
        "volunteer_email": "wh.ola@acme.example",
        "scheduled_at": "2026-10-08T08:00:00Z",
    },
    {"session_id": "WH-3", "session_type": "knitting", "participant_email": "x@example.org"},
]


def count(api: Api, query: str, **params: Any) -> int:
    with api.engine.connect() as db:
        value: int = db.execute(sa.text(query), params).scalar_one()
    return value


def test_a_signed_delivery_lands_through_the_loader_and_is_announced(api: Api, caplog: Any) -> None:
    body = json.dumps({"records": SESSIONS}).encode()
    headers = signed(body, "msg_sessions_1") | {"X-Correlation-ID": "wh-trace-1"}
    with caplog.at_level(logging.INFO):
        response = api.client.post("/v1/webhooks/kintell/sessions", content=body, headers=headers)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert (accepted["rows_in"], accepted["rows_loaded"], accepted["rows_quarantined"]) == (3, 2, 1)
    assert accepted["replayed"] is False and accepted["status"] == "succeeded"
    load_id = accepted["load_id"]
    assert count(api, "SELECT count(*) FROM raw.kintell_sessions WHERE load_id = :l", l=load_id) == 2
    assert count(api, "SELECT count(*) FROM ops.quarantine WHERE load_id = :l", l=load_id) == 1
    with api.engine.connect() as db:
        events = db.execute(
            sa.text("SELECT type, correlation_id, payload FROM ops.event_outbox WHERE correlation_id = 'wh-trace-1'")
        ).all()
        topics: list[str] = db.execute(
            sa.text("SELECT topics FROM raw.kintell_sessions WHERE session_id = 'WH-1'")
        ).scalar_one()
    assert sorted(e.type for e in events) == ["kintell.session.completed", "kintell.session.scheduled"]
    assert accepted["events_staged"] == 2
    assert not any("@" in json.dumps(e.payload) for e in events)  # payloads carry user ids, never emails
    assert list(topics) == ["travel", "work"]
    # every log line of the request carries its correlation id
    mine = [r for r in caplog.records if r.name.startswith(("api", "teei"))]
    assert mine and all(getattr(r, "correlation_id", None) == "wh-trace-1" for r in mine)

    # the same delivery again (a sender's retry, signed anew): nothing loaded twice, the first load answered
    again = api.client.post("/v1/webhooks/kintell/sessions", content=body, headers=signed(body, "msg_sessions_1"))
    assert again.status_code == 202
    assert again.json()["load_id"] == load_id and again.json()["replayed"] is True
    assert count(api, "SELECT count(*) FROM ops.loads WHERE file_name LIKE 'webhook/%sessions/msg_sessions_1'") == 1
    assert count(api, "SELECT count(*) FROM ops.event_outbox WHERE correlation_id = 'wh-trace-1'") == 2


def test_a_ratings_delivery_as_a_plain_list(api: Api) -> None:
    body = json.dumps(
        [
            {
                "rating_id": "WR-1",
                "session_id": "WH-1",
                "from_role": "participant",
                "rating": 4,
                "feedback_text": "ok",
                "created_at": "2026-10-01T09:05:00Z",
            }
        ]
    ).encode()
    response = api.client.post(
        "/v1/webhooks/kintell/ratings", content=body, headers=signed(body, "msg_ratings_1") | {"X-Correlation-ID": "r1"}
    )
    assert response.status_code == 202, response.text
    assert response.json()["rows_loaded"] == 1
    assert count(api, "SELECT count(*) FROM raw.kintell_ratings WHERE rating_id = 'WR-1'") == 1
    assert count(api, "SELECT count(*) FROM ops.event_outbox WHERE correlation_id = 'r1'") == 1


@pytest.mark.parametrize(
    "forge",
    ["bad signature", "stale timestamp", "future timestamp", "body changed", "missing headers", "malformed"],
)
def test_forged_or_stale_deliveries_are_refused_and_load_nothing(api: Api, forge: str) -> None:
    body = json.dumps([SESSIONS[0] | {"session_id": f"FORGED-{forge}"}]).encode()
    headers = signed(body, f"msg_forged_{forge}")
    if forge == "bad signature":
        headers = signed(body, f"msg_forged_{forge}", secret="not-the-secret")
    elif forge == "stale timestamp":
        headers = signed(body, f"msg_forged_{forge}", at=datetime.now(UTC) - timedelta(minutes=6))
    elif forge == "future timestamp":
        headers = signed(body, f"msg_forged_{forge}", at=datetime.now(UTC) + timedelta(minutes=6))
    elif forge == "body changed":
        body = body.replace(b"FORGED", b"FORGEX")
    elif forge == "missing headers":
        headers = {"Content-Type": "application/json"}
    else:
        headers["webhook-signature"] = "garbage"
    response = api.client.post("/v1/webhooks/kintell/sessions", content=body, headers=headers)
    assert_problem(response, 401)
    if forge == "stale timestamp":
        assert "too old" in response.json()["detail"]
    assert count(api, "SELECT count(*) FROM raw.kintell_sessions WHERE session_id LIKE 'FORGE%'") == 0


def test_a_signed_delivery_that_is_not_records_is_a_4xx_and_unknown_entities_404(api: Api) -> None:
    assert_problem(
        api.client.post("/v1/webhooks/kintell/sessions", content=b"not json", headers=signed(b"not json", "msg_bad")),
        400,
    )
    for body in (b"{}", b"[]", b"[1, 2]"):
        response = api.client.post("/v1/webhooks/kintell/sessions", content=body, headers=signed(body, "msg_bad"))
        assert_problem(response, 422)
    body = b"[]"
    assert_problem(api.client.post("/v1/webhooks/kintell/payments", content=body, headers=signed(body, "m")), 404)


# A sender's mistakes: the body as sent (text, so escapes such as a lone surrogate stay as written), the
# status, and what the detail must name so the sender can find the fault.
GOOD = {k: v for k, v in SESSIONS[0].items() if k != "topics"}
SENDER_MISTAKES: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "NUL in a value": (
        json.dumps([GOOD | {"session_id": "MIS-NUL", "volunteer_email": "o\u0000la@acme.example"}]),
        422,
        ("record 1", "volunteer_email", "NUL"),
    ),
    "lone surrogate in a value": (
        json.dumps([GOOD | {"session_id": "MIS-SUR"}]).replace("wh.anna@", "wh.anna\\ud800@"),
        422,
        ("record 1", "participant_email", "surrogate"),
    ),
    "NUL in a field name": (json.dumps([GOOD | {"session_id": "MIS-KEY", "note\u0000": "x"}]), 422, ("field name",)),
    "required fields in no record": (
        json.dumps([{"session_id": "MIS-REQ", "session_type": "language"}]),
        422,
        ("participant_email", "volunteer_email"),
    ),
    "nested 100,000 levels deep": ("[" * 100_000 + "]" * 100_000, 400, (str(MAX_JSON_DEPTH), "levels")),
    "objects nested too deep": ('{"records": [' + '{"a": ' * 40 + "1" + "}" * 40 + "]}", 400, ("levels",)),
    "truncated JSON": (json.dumps([GOOD])[:-3], 400, ("not JSON",)),
    "a number of 5,000 digits": ('[{"session_id": ' + "9" * 5000 + "}]", 400, ("not JSON",)),
}
INTERNAL_NAMES = ("stage_", "COPY", "ops.", "raw.", "CONTEXT", "psycopg")


def ledger(api: Api) -> tuple[int, int, int]:
    """Loads, failed loads of no rows, and recorded deliveries: what a rejected delivery must not change."""
    with api.engine.connect() as db:
        row = db.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM ops.loads), "
                "(SELECT count(*) FROM ops.loads WHERE status = 'failed' AND rows_in = 0), "
                "(SELECT count(*) FROM ops.webhook_deliveries)"
            )
        ).one()
    return row[0], row[1], row[2]


@pytest.mark.parametrize("mistake", SENDER_MISTAKES)
def test_a_senders_mistake_is_a_4xx_naming_it_and_records_nothing(api: Api, mistake: str) -> None:
    text, status, named = SENDER_MISTAKES[mistake]
    body = text.encode()
    before = ledger(api)
    delivery = f"msg_mistake_{mistake}"
    for _attempt in range(2):  # the sender's retry of the same body is answered the same, never "replayed"
        problem = assert_problem(
            api.client.post("/v1/webhooks/kintell/sessions", content=body, headers=signed(body, delivery)), status
        )
        assert all(part in problem["detail"] for part in named), problem["detail"]
        assert not any(name in problem["detail"] for name in INTERNAL_NAMES), problem["detail"]
    assert ledger(api) == before
    assert count(api, "SELECT count(*) FROM raw.kintell_sessions WHERE session_id LIKE 'MIS-%'") == 0


@pytest.mark.parametrize("character", ["\\u0000", "\\udfff"], ids=["NUL", "lone surrogate"])
def test_text_no_database_can_hold_refuses_the_delivery_naming_the_record_as_a_file_would_fail(
    api: Api, character: str
) -> None:
    # A file with a NUL in one value fails as a whole (PostgreSQL text cannot hold it), so does a body:
    # the other record is not loaded either, and the detail says which record and field to fix.
    records = [GOOD | {"session_id": "TXT-1"}, GOOD | {"session_id": "TXT-2", "session_type": "LANGUAGE"}]
    body = json.dumps(records).replace('"LANGUAGE"', f'"lang{character}uage"').encode()
    before = ledger(api)
    problem = assert_problem(
        api.client.post("/v1/webhooks/kintell/sessions", content=body, headers=signed(body, f"msg_text_{character}")),
        422,
    )
    assert problem["detail"].startswith('record 2, field "session_type"'), problem["detail"]
    assert ledger(api) == before
    assert count(api, "SELECT count(*) FROM raw.kintell_sessions WHERE session_id LIKE 'TXT-%'") == 0


def test_bad_values_in_good_records_are_quarantined_and_a_nested_object_is_allowed(api: Api) -> None:
    nested: Any = 1
    for _ in range(MAX_JSON_DEPTH - 3):  # with the list and the record, exactly the limit
        nested = {"n": nested}
    records = [
        GOOD | {"session_id": "VAL-1", "extra": nested},
        GOOD | {"session_id": "VAL-2", "participant_email": "not an email", "rating": "NaN"},
    ]
    body = json.dumps({"records": records}).encode()
    response = api.client.post("/v1/webhooks/kintell/sessions", content=body, headers=signed(body, "msg_values"))
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert (accepted["rows_loaded"], accepted["rows_quarantined"]) == (1, 1)
    with api.engine.connect() as db:
        reasons: list[str] = db.execute(
            sa.text("SELECT reasons FROM ops.quarantine WHERE load_id = :l"), {"l": accepted["load_id"]}
        ).scalar_one()
    assert any("participant_email" in reason for reason in reasons), reasons


def test_a_delivery_while_the_database_is_down_is_a_503_to_retry_and_is_not_recorded(api: Api) -> None:
    down = api.settings.model_copy(update={"database_url": f"postgresql://teei:teei@127.0.0.1:{free_port()}/teei"})
    body = json.dumps([GOOD | {"session_id": "DOWN-1"}]).encode()
    with TestClient(create_app(down)) as client:
        response = client.post("/v1/webhooks/kintell/sessions", content=body, headers=signed(body, "msg_down"))
    problem = assert_problem(response, 503)
    assert response.headers["retry-after"] == "30"
    assert not any(name in problem["detail"] for name in INTERNAL_NAMES), problem["detail"]
    # Not recorded as delivered: the sender's retry, once the database is back, loads it.
    again = api.client.post("/v1/webhooks/kintell/sessions", content=body, headers=signed(body, "msg_down"))
    assert again.status_code == 202, again.text
    assert again.json()["replayed"] is False and again.json()["rows_loaded"] == 1


# --- uploads ---------------------------------------------------------------------------------------

ADMIN_UPLOAD = {"Content-Type": "text/csv"}
CSV = (
    b"Session ID,Session Type,Participant Email,Volunteer Email,Completed At\n"
    b"U-1,language,up.anna@example.org,up.ola@acme.example,2026-10-01T09:00:00Z\n"
)


def landing_files(api: Api) -> list[str]:
    landing = api.settings.landing_path
    return sorted(p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file())


def upload(api: Api, path: str, content: Any, **headers: str) -> Any:
    admin = bearer(token(api.settings, "admin"))
    return api.client.post(path, content=content, headers=admin | ADMIN_UPLOAD | headers)


def test_an_upload_lands_where_the_sensor_picks_it_up(api: Api) -> None:
    before = landing_files(api)
    response = upload(api, "/v1/imports/kintell/sessions", CSV)
    assert response.status_code == 202, response.text
    landed = response.json()
    assert landed["bytes"] == len(CSV) and landed["sha256"] == hashlib.sha256(CSV).hexdigest()
    assert landing_files(api) == sorted([*before, landed["path"]])
    path = Path(landed["path"])
    spec = entity_for_file(path)
    assert spec is not None and (spec.source, spec.entity) == ("kintell", "sessions")
    assert (api.settings.landing_path / path).read_bytes() == CSV


def test_a_utf16_upload_with_a_byte_order_mark_lands_as_from_the_landing_folder(api: Api) -> None:
    # UTF-16 has a NUL byte in every ASCII character; its byte order mark says it is text all the same.
    content = CSV.decode().replace("up.anna", "up.олена").encode("utf-16")
    assert b"\0" in content and content.startswith(codecs.BOM_UTF16_LE)

    response = upload(api, "/v1/imports/kintell/sessions", content)

    assert response.status_code == 202, response.text
    landed = api.settings.landing_path / response.json()["path"]
    assert landed.read_bytes() == content
    export = open_export(landed, get_entity("kintell", "sessions"))
    assert export.encoding == "utf-16"
    assert [row[2] for row, _ in export.records()] == ["up.олена@example.org"]


def test_an_upload_over_the_limit_is_413_and_leaves_nothing(api: Api) -> None:
    before = landing_files(api)
    big = CSV + b"U-2,language,a@example.org,b@example.org,2026-10-01T09:00:00Z\n" * 100
    assert_problem(upload(api, "/v1/imports/kintell/sessions", big), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        yield CSV
        for _ in range(100):
            yield b"U-2,language,a@example.org,b@example.org,2026-10-01T09:00:00Z\n"

    assert_problem(upload(api, "/v1/imports/kintell/sessions", chunks()), 413)
    assert landing_files(api) == before


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), 415),
        (CSV + b"U-2,language,\x00\x01\x02,b@example.org,\n", 415),  # a NUL byte in a CSV without a BOM
        (CSV + bytes([0x81, 0x98]) * 50, 422),  # neither Windows-1252 nor Windows-1251
        (b"just,some,columns\n1,2,3\n", 422),
        (b"", 422),
    ],
    ids=["binary", "nul-bytes", "undecodable", "wrong columns", "empty"],
)
def test_garbage_uploads_are_clear_4xx_and_write_nothing(api: Api, content: bytes, status: int) -> None:
    before = landing_files(api)
    body = assert_problem(upload(api, "/v1/imports/kintell/sessions", content), status)
    assert body["detail"]
    assert landing_files(api) == before


def test_uploads_of_unknown_entities_or_types_are_refused(api: Api) -> None:
    before = landing_files(api)
    assert_problem(upload(api, "/v1/imports/kintell/payments", CSV), 404)
    assert_problem(upload(api, "/v1/imports/linkedin/sessions", CSV), 404)
    assert_problem(upload(api, "/v1/imports/kintell/sessions", CSV, **{"Content-Type": "image/png"}), 415)
    assert landing_files(api) == before


def test_an_unexpected_error_is_a_500_problem_logged_under_the_correlation_id(api: Api, caplog: Any) -> None:
    app = create_app(api.settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("something broke")

    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        response = client.get("/boom", headers={"X-Correlation-ID": "boom-1"})
    body = assert_problem(response, 500)
    assert response.headers["x-correlation-id"] == "boom-1"
    assert "something broke" not in body["detail"]  # internals stay in the log
    logged = [r for r in caplog.records if r.name == "api.problems"]
    assert logged and logged[0].correlation_id == "boom-1" and logged[0].exc_info


def test_a_webhook_body_over_the_limit_is_413(api: Api) -> None:
    settings = api.settings.model_copy(update={"webhook_max_bytes": 100})
    body = json.dumps([SESSIONS[0]] * 5).encode()
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/webhooks/kintell/sessions", content=body, headers=signed(body, "msg_big"))
    assert_problem(response, 413)
