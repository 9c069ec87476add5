"""Who is calling the HTTP API: bearer API keys (stored hashed, bound to a user or a service role), JWTs from
the shop's issuer (PyJWT), per-caller rate limits, and the header-trusting mode only when asked for.

- API key: `Authorization: Bearer sk-sa-<key_id>.<secret>`; the database keeps sha256(key) only (keys are
  random 192-bit strings, so a fast hash is enough and lookups stay one indexed SELECT); keys live in the
  session store's database (`api_keys`), so a key revoked there is refused by every replica at once.
- JWT: `Authorization: Bearer <jwt>` verified against the configured key (HS256 secret or RS256/ES256
  public key), `iss`, `aud` and `exp` required; `sub` is the user; `"role": "service"` makes a service.
- role `user`: the caller *is* that user; a request naming another user (`user` field or `X-User-Id`) is
  refused (403). role `service` (the agent console, a back office): may name the shopper it acts for.
- trust mode (`--trust-user-header`): no authentication, the `X-User-Id` header is believed (behind a
  proxy that authenticates and sets it); never the default of `shopassist api`.
- rate limit: a token bucket per key / token subject (`rate_per_min`, burst of the same size), per
  replica: with N replicas behind a balancer a caller gets up to N times the rate.

Knows credentials and HTTP headers; nothing about sessions, carts or models.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from assistant.database import EngineHolder
from assistant.store_schema import API_KEYS, migrate

ROLES = ("user", "service")
OPEN_PATHS = ("/healthz", "/livez", "/readyz", "/metrics")
SERVICE_PATHS = ("/v1/suggest-replies",)
KEY_PREFIX = "sk-sa-"


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after

    def response(self) -> JSONResponse:
        headers = {"Retry-After": str(max(1, round(self.retry_after)))} if self.retry_after else {}
        if self.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        kind = "rate_limit_error" if self.status == 429 else "authentication_error" if self.status == 401 \
            else "permission_error"
        return JSONResponse({"error": {"message": self.message, "type": kind, "param": None, "code": self.code}},
                            status_code=self.status, headers=headers)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. `user_id` None with role `service`: acts for whichever shopper it names."""

    subject: str           # key id or token subject: what rate limits and logs count by
    role: str              # user | service | trusted-header
    user_id: str | None
    via: str               # api_key | jwt | header

    def resolve_user(self, requested: str | None) -> str | None:
        """The signed-in user of a request that names `requested` (body `user` / `X-User-Id`)."""
        if self.role == "user":
            if requested not in (None, self.user_id):
                raise AuthError(403, "user_mismatch", "this key or token belongs to another user")
            return self.user_id
        return requested


def caller(request: Request) -> Principal:
    """The request's principal; without an authenticator installed, the header-trusting principal."""
    return getattr(request.state, "principal", None) or Principal("header", "trusted-header", None, "header")


def requested_user(request: Request) -> str | None:
    """The user a request names in its `X-User-Id` header, or the caller's own user for a user key."""
    principal = caller(request)
    return principal.user_id if principal.role == "user" else request.headers.get("x-user-id")


# ---- API keys ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    user_id: str | None
    role: str
    rate_per_min: int | None
    revoked: bool


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyStore:
    """API keys in a database (the session store's: a SQLite path or a postgresql:// URL)."""

    def __init__(self, target: str | Path):
        self._engines = EngineHolder(target)
        migrate(self._engines.get())

    def create(self, user_id: str | None = None, role: str = "user", rate_per_min: int | None = None
               ) -> tuple[str, str]:
        """(key_id, key): the key is shown once; only its hash is stored."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if (role == "user") != bool(user_id):
            raise ValueError("a user key needs --user; a service key takes none")
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}{key_id}.{secrets.token_urlsafe(24)}"
        with self._engines.get().connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(API_KEYS.insert().values(key_id=key_id, key_hash=_hash(key), user_id=user_id, role=role,
                                                  rate_per_min=rate_per_min, created=time.time(), revoked=None))
        return key_id, key

    def revoke(self, key_id: str) -> bool:
        with self._engines.get().connect().execution_options(write=True) as conn, conn.begin():
            n = conn.execute(API_KEYS.update().where(API_KEYS.c.key_id == key_id, API_KEYS.c.revoked.is_(None))
                             .values(revoked=time.time())).rowcount
        return n > 0

    def lookup(self, key: str) -> KeyRecord | None:
        with self._engines.get().connect() as conn:
            row = conn.execute(sa.select(API_KEYS.c.key_id, API_KEYS.c.user_id, API_KEYS.c.role,
                                         API_KEYS.c.rate_per_min, API_KEYS.c.revoked)
                               .where(API_KEYS.c.key_hash == _hash(key))).first()
        return None if row is None else KeyRecord(row[0], row[1], row[2], row[3], row[4] is not None)

    def list(self) -> list[KeyRecord]:
        with self._engines.get().connect() as conn:
            rows = conn.execute(sa.select(API_KEYS.c.key_id, API_KEYS.c.user_id, API_KEYS.c.role,
                                          API_KEYS.c.rate_per_min, API_KEYS.c.revoked)
                                .order_by(API_KEYS.c.created)).all()
        return [KeyRecord(r[0], r[1], r[2], r[3], r[4] is not None) for r in rows]


# ---- JWT -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JwtConfig:
    key: str                  # HS256 secret, or a PEM public key for RS256 / ES256
    issuer: str
    audience: str = "shopassist"
    algorithms: tuple[str, ...] = ("HS256",)
    leeway_s: float = 30.0

    def verify(self, token: str) -> Principal:
        import jwt

        try:
            claims = jwt.decode(token, self.key, algorithms=list(self.algorithms), audience=self.audience,
                                issuer=self.issuer, leeway=self.leeway_s,
                                options={"require": ["exp", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError:
            raise AuthError(401, "token_expired", "the token has expired") from None
        except jwt.InvalidTokenError as e:
            raise AuthError(401, "invalid_token", f"the token is not valid: {e}") from None
        role = "service" if claims.get("role") == "service" else "user"
        return Principal("jwt:" + str(claims["sub"]), role, None if role == "service" else str(claims["sub"]), "jwt")


# ---- rate limits -----------------------------------------------------------------------------------------
class RateLimiter:
    """A token bucket per subject: `rate_per_min` requests a minute, bursts up to the same number."""

    def __init__(self, rate_per_min: int, clock=time.monotonic):
        self.rate_per_min, self.clock = rate_per_min, clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, subject: str, rate_per_min: int | None = None) -> None:
        rate = rate_per_min or self.rate_per_min
        if rate <= 0:
            return
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(subject, (float(rate), now))
            tokens = min(float(rate), tokens + (now - last) * rate / 60.0)
            if tokens < 1.0:
                self._buckets[subject] = (tokens, now)
                raise AuthError(429, "rate_limited", f"rate limit of {rate} requests a minute reached",
                                retry_after=(1.0 - tokens) * 60.0 / rate)
            self._buckets[subject] = (tokens - 1.0, now)


# ---- the authenticator -------------------------------------------------------------------------------
class Authenticator:
    def __init__(self, keys: ApiKeyStore | None = None, jwt: JwtConfig | None = None,
                 limiter: RateLimiter | None = None):
        if keys is None and jwt is None:
            raise ValueError("authentication needs API keys or a JWT issuer (or run with --trust-user-header)")
        self.keys, self.jwt, self.limiter = keys, jwt, limiter

    def authenticate(self, authorization: str | None) -> Principal:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(401, "missing_credentials", "send 'Authorization: Bearer <API key or token>'")
        token = token.strip()
        rate = None
        if token.startswith(KEY_PREFIX):
            principal, rate = self._key(token)
        elif self.jwt is not None and token.count(".") == 2:
            principal = self.jwt.verify(token)
        else:
            raise AuthError(401, "invalid_credentials", "unknown API key or token")
        if self.limiter is not None:
            self.limiter.take(principal.subject, rate)
        return principal

    def _key(self, token: str) -> tuple[Principal, int | None]:
        record = self.keys.lookup(token) if self.keys is not None else None
        if record is None:
            raise AuthError(401, "invalid_api_key", "unknown API key")
        if record.revoked:
            raise AuthError(401, "revoked_api_key", "this API key has been revoked")
        return Principal("key:" + record.key_id, record.role, record.user_id, "api_key"), record.rate_per_min


def install_auth(app: FastAPI, auth: Authenticator, on_failure=None) -> None:
    """Every route but the open ones (health, metrics) needs credentials; service-only routes need a service.
    `on_failure(code)` is told each refusal (metrics)."""
    from fastapi.concurrency import run_in_threadpool

    @app.exception_handler(AuthError)
    async def _refused(request: Request, exc: AuthError):
        if on_failure is not None:
            on_failure(exc.code)
        return exc.response()

    @app.middleware("http")
    async def _authenticate(request: Request, call_next):
        if request.url.path in OPEN_PATHS:
            return await call_next(request)
        try:  # a key lookup is a database query: off the event loop
            principal = await run_in_threadpool(auth.authenticate, request.headers.get("authorization"))
            if request.url.path in SERVICE_PATHS and principal.role != "service":
                raise AuthError(403, "service_only", f"{request.url.path} is for service keys (the agent console)")
        except AuthError as e:
            if on_failure is not None:
                on_failure(e.code)
            return e.response()
        request.state.principal = principal
        return await call_next(request)
