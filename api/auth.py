"""Who is calling: `Authorization: Bearer <JWT>` verified with PyJWT, the algorithm pinned by the key.

HS256 with `TEEI_JWT_SECRET`, or RS256 / ES256 with `TEEI_JWT_PUBLIC_KEY` (PEM; the algorithm follows
the key's type, so a token cannot choose it: `alg: none`, HS256 signed with the public key, or any other
algorithm is refused). `exp`, `aud` (`TEEI_JWT_AUDIENCE`), `iss` (`TEEI_JWT_ISSUER`) and `sub` are
required. Claims: `role` is `admin`, `company_user` (with `company_id`) or `participant` (with
`user_id`, the 64-hex pseudonymous id). Every fault answers 401 problem+json with `WWW-Authenticate`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from teei.platform.settings import Settings

Role = Literal["admin", "company_user", "participant"]
ROLES: tuple[Role, ...] = ("admin", "company_user", "participant")
USER_ID_PATTERN = re.compile(r"^[0-9a-f]{64}$")
REALM = "teei-api"
# Clocks of token issuers and this server may differ a little.
LEEWAY_SECONDS = 30


class TokenError(Exception):
    """The token is missing or not acceptable; the message says why (safe to show the caller)."""

    def __init__(self, description: str, *, missing: bool = False) -> None:
        super().__init__(description)
        self.description = description
        self.missing = missing

    def challenge(self) -> str:
        # RFC 6750 §3.1: a request with no credentials gets no error code.
        if self.missing:
            return f'Bearer realm="{REALM}"'
        safe = self.description.replace('"', "'")
        return f'Bearer realm="{REALM}", error="invalid_token", error_description="{safe}"'


@dataclass(frozen=True)
class Caller:
    """A verified caller."""

    sub: str
    role: Role
    company_id: str | None = None
    user_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class TokenVerifier:
    """The one key and algorithm tokens are verified with."""

    key: Any
    algorithm: str
    audience: str
    issuer: str

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        if settings.jwt_public_key:
            key, algorithm = public_key_and_algorithm(settings.jwt_public_key)
            return cls(key, algorithm, settings.jwt_audience, settings.jwt_issuer)
        if settings.jwt_secret is None or not settings.jwt_secret.get_secret_value():
            raise ValueError("set TEEI_JWT_SECRET or TEEI_JWT_PUBLIC_KEY: the API cannot verify tokens without one")
        return cls(settings.jwt_secret.get_secret_value(), "HS256", settings.jwt_audience, settings.jwt_issuer)

    def verify(self, token: str) -> Caller:
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "aud", "iss", "sub"], "verify_signature": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("the token has expired") from exc
        except jwt.InvalidAlgorithmError as exc:
            raise TokenError(f"the token must be signed with {self.algorithm}") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenError(f"the token's audience must be {self.audience!r}") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenError(f"the token's issuer must be {self.issuer!r}") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(f"the token has no {exc.claim!r} claim") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenError("the token's signature does not verify") from exc
        except jwt.PyJWTError as exc:
            raise TokenError(f"the token is not valid: {exc}") from exc
        require_numeric_dates(claims)
        return caller_from_claims(claims)


# The registered claims that are NumericDate values (RFC 7519 §4.1.4–4.1.6).
NUMERIC_DATE_CLAIMS = ("exp", "nbf", "iat")


def require_numeric_dates(claims: dict[str, Any]) -> None:
    """`exp`, `nbf` and `iat`, when present, must be JSON numbers (RFC 7519 NumericDate).

    PyJWT converts a string of digits with `int()` and accepts it; a token that spells its expiry as
    text was not made by a conforming issuer, so it is refused rather than read generously."""
    for name in NUMERIC_DATE_CLAIMS:
        if name in claims:
            value = claims[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TokenError(f"the token's {name!r} claim must be a number (seconds since the epoch)")


def public_key_and_algorithm(pem: str) -> tuple[Any, str]:
    """The public key of `TEEI_JWT_PUBLIC_KEY` and the one algorithm it verifies."""
    try:
        key = load_pem_public_key(pem.replace("\\n", "\n").encode())
    except ValueError as exc:
        raise ValueError("TEEI_JWT_PUBLIC_KEY is not a PEM public key") from exc
    if isinstance(key, rsa.RSAPublicKey):
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key, "ES256"
    raise ValueError("TEEI_JWT_PUBLIC_KEY must be an RSA key (RS256) or a P-256 EC key (ES256)")


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    sub, role = claims.get("sub"), claims.get("role")
    if not isinstance(sub, str) or not sub:
        raise TokenError("the token's 'sub' must be a non-empty string")
    if role not in ROLES:
        raise TokenError(f"the token's 'role' must be one of {', '.join(ROLES)}")
    if role == "company_user":
        company_id = claims.get("company_id")
        if not isinstance(company_id, str) or not company_id:
            raise TokenError("a company_user token needs a 'company_id' claim")
        return Caller(sub=sub, role="company_user", company_id=company_id)
    if role == "participant":
        user_id = claims.get("user_id")
        if not isinstance(user_id, str) or not USER_ID_PATTERN.match(user_id):
            raise TokenError("a participant token needs a 'user_id' claim (64 hex characters)")
        return Caller(sub=sub, role="participant", user_id=user_id)
    return Caller(sub=sub, role="admin")


def mint_token(
    settings: Settings,
    *,
    role: Role,
    sub: str | None = None,
    company_id: str | None = None,
    user_id: str | None = None,
    ttl_seconds: int = 3600,
    now: float | None = None,
) -> str:
    """A development token signed with TEEI_JWT_SECRET (HS256), checked like every incoming one."""
    if settings.jwt_public_key:
        raise ValueError(
            "TEEI_JWT_PUBLIC_KEY is set, so the API only accepts tokens signed with its private key; "
            "mint tokens with your identity provider (or unset TEEI_JWT_PUBLIC_KEY to use TEEI_JWT_SECRET)"
        )
    if settings.jwt_secret is None or not settings.jwt_secret.get_secret_value():
        raise ValueError("TEEI_JWT_SECRET is not set: there is no key to sign a token with")
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": sub or f"dev-{role}",
        "role": role,
        "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    if company_id is not None:
        claims["company_id"] = company_id
    if user_id is not None:
        claims["user_id"] = user_id
    caller_from_claims(claims)  # refuses a token the API would refuse (no company, malformed user id)
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise TokenError("an Authorization: Bearer token is required", missing=True)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("the Authorization header must be 'Bearer <token>'")
    return token.strip()


# Declares the scheme in OpenAPI (the docs' Authorize button); the header is checked below.
bearer_scheme = HTTPBearer(auto_error=False, description="A JWT: `teei token --role admin` mints one.")


async def authenticated_caller(
    request: Request, _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
) -> Caller:
    """The verified caller of this request, after its rate limit (per caller, else per address).

    Async on purpose: verifying and counting take microseconds, less than a hop to the thread pool."""
    verifier: TokenVerifier = request.app.state.token_verifier
    caller: Caller | None = None
    fault: TokenError | None = None
    try:
        caller = verifier.verify(bearer_token(request))
    except TokenError as exc:
        fault = exc
    # Counted before refusing a bad token: guessing tokens is rate limited too.
    request.app.state.rate_limiter.hit(request, caller.sub if caller else None)
    if fault is not None:
        raise HTTPException(401, detail=fault.description, headers={"WWW-Authenticate": fault.challenge()})
    assert caller is not None
    request.state.caller = caller
    return caller


async def admin_caller(caller: Annotated[Caller, Depends(authenticated_caller)]) -> Caller:
    """Admin-only operations answer 404 to everyone else, like anything outside a caller's tenancy."""
    if not caller.is_admin:
        # Answered exactly like an unknown route, so the operation cannot be told apart from none.
        raise HTTPException(404)
    return caller


CallerDep = Annotated[Caller, Depends(authenticated_caller)]
AdminDep = Annotated[Caller, Depends(admin_caller)]
