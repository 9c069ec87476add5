"""Who is calling the API: hashed API keys bound to a user or a service, JWTs from the shop's issuer, rate
limits, and the header-trusting mode only when asked for. Forged headers, revoked keys, expired tokens and
bursts are refused with OpenAI-shaped errors."""
from __future__ import annotations

import time

import jwt
import pytest
from fastapi.testclient import TestClient

from assistant.engine import Assistant
from assistant.persistence import SessionStore
from retrieval.schema import Order, OrderItem, Product
from retrieval.search import ProductIndex
from retrieval.store import Store
from ui.api import create_app
from ui.auth import ApiKeyStore, Authenticator, AuthError, JwtConfig, RateLimiter

SECRET = "test-shop-signing-secret-of-enough-length"
PRODUCTS = [Product("PK001", "Pigeon electric kettle 1.5 litre", "Auto shut-off", ["Home", "Kitchen"], "Pigeon", 899,
                    "INR", 1200, 4.1, 300),
            Product("PC001", "Wayona USB C braided charging cable", "60W", ["Electronics", "Cables"], "Wayona", 299,
                    "INR", 699, 4.4, 900)]


@pytest.fixture(scope="module")
def index():
    store = Store(products={p.product_id: p for p in PRODUCTS},
                  orders={"O10002": Order("O10002", "U2", [OrderItem("PK001", 1, 899)], "shipped",
                                          tracking_number="TRK2SECRET99")})
    return ProductIndex.build(store)


@pytest.fixture()
def api(index, tmp_path):
    db = str(tmp_path / "s.db")
    keys = ApiKeyStore(db)
    auth = Authenticator(keys, JwtConfig(SECRET, "https://id.shop.example"), RateLimiter(1000))
    client = TestClient(create_app(Assistant(index, sessions=SessionStore(db)), auth=auth))
    return client, keys


def chat(client, text: str, headers: dict, **body):
    return client.post("/v1/chat/completions", headers=headers,
                       json={"messages": [{"role": "user", "content": text}], **body})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def token(sub: str, exp_in: float = 300, **claims) -> str:
    now = time.time()
    return jwt.encode({"sub": sub, "iss": "https://id.shop.example", "aud": "shopassist", "iat": int(now),
                       "exp": int(now + exp_in), **claims}, SECRET, algorithm="HS256")


def test_without_credentials_the_api_refuses_and_health_stays_open(api):
    client, _ = api
    r = chat(client, "what's in my cart?", {"X-User-Id": "U2"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "missing_credentials"
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/v1/models").status_code == 401
    assert client.get("/livez").status_code == 200 and client.get("/metrics").status_code == 200


def test_a_user_key_signs_in_its_user_and_a_forged_header_changes_nothing(api):
    client, keys = api
    _, key_u1 = keys.create("U1")
    _, key_u2 = keys.create("U2")
    assert chat(client, "add PK001 to my cart", bearer(key_u2)).json()["shopassist"]["cart"] == {"PK001": 1}
    forged = chat(client, "what's in my cart?", {**bearer(key_u1), "X-User-Id": "U2"})
    assert forged.status_code == 200 and forged.json()["shopassist"]["user"] == "U1"
    assert forged.json()["shopassist"]["cart"] == {}                      # the header is not believed
    named = chat(client, "where is order O10002?", bearer(key_u1), user="U2")
    assert named.status_code == 403 and named.json()["error"]["code"] == "user_mismatch"
    assert "TRK2SECRET99" not in named.text
    stored = keys.list()
    assert key_u1 not in repr(stored) and all(k.role == "user" for k in stored)


def test_a_revoked_or_made_up_key_is_refused(api):
    client, keys = api
    key_id, key = keys.create("U1")
    assert chat(client, "hello", bearer(key)).status_code == 200
    assert keys.revoke(key_id) and not keys.revoke(key_id)
    r = chat(client, "hello", bearer(key))
    assert r.status_code == 401 and r.json()["error"]["code"] == "revoked_api_key"
    r = chat(client, "hello", bearer(key[:-4] + "abcd"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"


def test_jwts_expired_wrong_issuer_or_forged_signature_are_refused(api):
    client, _ = api
    ok = chat(client, "what's in my cart?", bearer(token("U1")))
    assert ok.status_code == 200 and ok.json()["shopassist"]["user"] == "U1"
    expired = chat(client, "hello", bearer(token("U1", exp_in=-120)))
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "token_expired"
    other_iss = jwt.encode({"sub": "U2", "iss": "https://evil.example", "aud": "shopassist",
                            "exp": int(time.time() + 300)}, SECRET, algorithm="HS256")
    assert chat(client, "hello", bearer(other_iss)).json()["error"]["code"] == "invalid_token"
    forged = jwt.encode({"sub": "U2", "iss": "https://id.shop.example", "aud": "shopassist",
                         "exp": int(time.time() + 300)}, "not-the-shop-secret-but-long-enough", algorithm="HS256")
    assert chat(client, "hello", bearer(forged)).status_code == 401
    unsigned = jwt.encode({"sub": "U2", "iss": "https://id.shop.example", "aud": "shopassist",
                           "exp": int(time.time() + 300)}, None, algorithm="none")
    assert chat(client, "hello", bearer(unsigned)).status_code == 401


def test_service_keys_act_for_a_named_shopper_and_own_the_agent_routes(api):
    client, keys = api
    _, service = keys.create(role="service")
    _, shopper = keys.create("U1")
    r = chat(client, "add PC001 to my cart", {**bearer(service), "X-User-Id": "U3"})
    assert r.status_code == 200 and r.json()["shopassist"]["user"] == "U3"
    body = {"conversation": {"user_id": "U1", "messages": [{"role": "customer", "text": "where is my order?"}]}}
    assert client.post("/v1/suggest-replies", headers=bearer(shopper), json=body).status_code == 403
    assert client.post("/v1/suggest-replies", headers=bearer(service), json=body).status_code == 200
    with pytest.raises(ValueError):
        keys.create("U1", role="service")


def test_a_burst_over_the_rate_limit_gets_429_with_retry_after(index, tmp_path):
    db = str(tmp_path / "s.db")
    keys = ApiKeyStore(db)
    client = TestClient(create_app(Assistant(index), auth=Authenticator(keys, limiter=RateLimiter(60))))
    _, key = keys.create("U1", rate_per_min=5)
    _, other = keys.create("U2")
    codes = [client.get("/v1/models", headers=bearer(key)).status_code for _ in range(8)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429] * 3
    r = client.get("/v1/models", headers=bearer(key))
    assert r.json()["error"]["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
    assert client.get("/v1/models", headers=bearer(other)).status_code == 200   # buckets are per key
    assert 'shopassist_auth_failures_total{reason="rate_limited"} 4.0' in client.get("/metrics").text


def test_rate_limiter_refills_with_time():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    for _ in range(60):
        limiter.take("k")
    with pytest.raises(AuthError) as e:
        limiter.take("k")
    assert e.value.status == 429 and 0 < e.value.retry_after <= 1.0
    now[0] += 1.0
    limiter.take("k")  # one request a second comes back


def test_the_command_line_refuses_without_a_key_unless_told_to_trust_headers(tmp_path):
    from ui.cli import build_parser
    from ui.commands.api import build_auth

    args = build_parser().parse_args(["api", "--store", str(tmp_path / "s.db")])
    assert isinstance(build_auth(args), Authenticator)
    trusting = build_parser().parse_args(["api", "--trust-user-header"])
    assert build_auth(trusting) is None
    with pytest.raises(ValueError, match="jwt-key-file"):
        build_auth(build_parser().parse_args(["api", "--store", str(tmp_path / "s.db"), "--jwt-issuer", "x"]))


def test_keys_command_creates_lists_and_revokes(tmp_path, capsys):
    from ui.cli import main

    db = str(tmp_path / "keys.db")
    assert main(["keys", "create", "--store", db, "--user", "U1"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    record = ApiKeyStore(db).lookup(key)
    assert record is not None and record.user_id == "U1" and not record.revoked
    assert main(["keys", "revoke", "--store", db, "--id", record.key_id]) == 0
    assert ApiKeyStore(db).lookup(key).revoked
    assert main(["keys", "revoke", "--store", db, "--id", record.key_id]) == 2     # already revoked: an error
    assert main(["keys", "create", "--store", db, "--role", "service", "--user", "U1"]) == 2
