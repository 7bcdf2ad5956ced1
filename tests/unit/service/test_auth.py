"""Bearer-token authentication: JWTs signed by keys of a JWKS, scopes per operation.

Keys are generated here; the app is the HTTP adapter over the in-memory service, with the
service's own verifier.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.testclient import TestClient

from user_core import UserService
from user_core.testing import FixedClock, InMemoryUserRepository
from user_http import RateLimits, create_app
from user_service.jwks import MAX_NUMERIC_DATE, JwksVerifier, verifier_from_settings
from user_service.settings import Settings

AUDIENCE = "user-service"
ISSUER = "https://issuer.example"
READ = "users:read"
WRITE = "users:write"
REALM = 'Bearer realm="user-service"'


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def jwks(rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    rsa_jwk = json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key()))
    ec_jwk = json.loads(ECAlgorithm.to_jwk(ec_key.public_key()))
    return {
        "keys": [
            {**rsa_jwk, "kid": "rsa-1", "alg": "RS256", "use": "sig"},
            {**ec_jwk, "kid": "ec-1", "alg": "ES256", "use": "sig"},
        ]
    }


@pytest.fixture
def client(jwks: dict[str, Any]) -> Iterator[TestClient]:
    service = UserService(InMemoryUserRepository(), FixedClock())
    verifier = JwksVerifier(jwks, audience=AUDIENCE, issuer=ISSUER)
    with TestClient(create_app(service, verifier=verifier)) as client:
        yield client


def token(
    key: Any,
    *,
    scope: str | None = f"{READ} {WRITE}",
    kid: str = "rsa-1",
    algorithm: str = "RS256",
    **claims: Any,
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": "client-1",
        "aud": AUDIENCE,
        "iss": ISSUER,
        "iat": now,
        "exp": now + 300,
    }
    if scope is not None:
        payload["scope"] = scope
    payload.update(claims)
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def assert_problem(response: Any, status: int, slug: str, challenge: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == challenge
    body = response.json()
    assert (body["type"], body["status"]) == (f"/problems/{slug}", status)
    assert body["request_id"] == response.headers["x-request-id"]


INVALID = f'{REALM}, error="invalid_token"'


def test_a_valid_token_with_the_scopes_reads_and_writes(
    client: TestClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    headers = bearer(token(rsa_key))
    created = client.post("/users", json={"name": "ada"}, headers=headers)
    assert created.status_code == 201
    assert client.get(created.headers["location"], headers=headers).status_code == 200
    assert client.get("/users", headers=headers).json()["count"] == 1


def test_an_ec_key_signs_valid_tokens_too(
    client: TestClient, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    headers = bearer(token(ec_key, kid="ec-1", algorithm="ES256"))
    assert client.get("/users", headers=headers).status_code == 200


def test_scopes_may_come_as_an_scp_list(client: TestClient, rsa_key: rsa.RSAPrivateKey) -> None:
    headers = bearer(token(rsa_key, scope=None, scp=[READ]))
    assert client.get("/users", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/users"), ("POST", "/users"), ("GET", "/users/1"), ("DELETE", "/users/1")],
)
def test_without_a_token_the_users_operations_are_401(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, path, json={"name": "ada"})
    assert_problem(response, 401, "unauthorized", REALM)


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwdw==", "Bearer", "Bearer ", "bearer-token", "Token abc"]
)
def test_an_authorization_that_is_not_a_bearer_token_is_401(
    client: TestClient, authorization: str
) -> None:
    response = client.get("/users", headers={"Authorization": authorization})
    assert_problem(response, 401, "unauthorized", REALM)


def test_an_expired_token_is_401(client: TestClient, rsa_key: rsa.RSAPrivateKey) -> None:
    expired = token(rsa_key, exp=int(time.time()) - 120)
    assert_problem(client.get("/users", headers=bearer(expired)), 401, "unauthorized", INVALID)


@pytest.mark.parametrize(
    "claims",
    [{"aud": "another-service"}, {"iss": "https://elsewhere.example"}, {"exp": None}],
    ids=["wrong audience", "wrong issuer", "no expiry"],
)
def test_a_token_not_meant_for_this_service_is_401(
    client: TestClient, rsa_key: rsa.RSAPrivateKey, claims: dict[str, Any]
) -> None:
    value = token(rsa_key, **claims)
    if claims.get("exp", 0) is None:
        payload = jwt.decode(value, options={"verify_signature": False})
        del payload["exp"]
        value = jwt.encode(payload, rsa_key, algorithm="RS256", headers={"kid": "rsa-1"})
    assert_problem(client.get("/users", headers=bearer(value)), 401, "unauthorized", INVALID)


def test_a_token_signed_by_another_key_is_401(client: TestClient) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = token(stranger)  # claims the configured key's kid
    assert_problem(client.get("/users", headers=bearer(forged)), 401, "unauthorized", INVALID)


def test_a_tampered_token_is_401(client: TestClient, rsa_key: rsa.RSAPrivateKey) -> None:
    header, payload, signature = token(rsa_key, scope=READ).split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["scope"] = f"{READ} {WRITE}"
    raised = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    tampered = f"{header}.{raised}.{signature}"
    response = client.post("/users", json={"name": "ada"}, headers=bearer(tampered))
    assert_problem(response, 401, "unauthorized", INVALID)


def test_unsigned_and_hmac_tokens_are_401(client: TestClient, jwks: dict[str, Any]) -> None:
    unsigned = token(None, algorithm="none")
    # The classic confusion: the public key used as an HMAC secret (signed by hand: PyJWT
    # itself refuses to).
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
    claims = jwt.decode(unsigned, options={"verify_signature": False})
    signing_input = ".".join(
        jwt.utils.base64url_encode(json.dumps(part).encode()).decode() for part in (header, claims)
    )
    secret = json.dumps(jwks["keys"][0]).encode()
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    confused = f"{signing_input}.{jwt.utils.base64url_encode(signature).decode()}"
    for value in (unsigned, confused, "not.a.jwt", "garbage"):
        response = client.get("/users", headers=bearer(value))
        assert_problem(response, 401, "unauthorized", INVALID)


def test_a_token_without_the_write_scope_cannot_write(
    client: TestClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    reader = bearer(token(rsa_key, scope=READ))
    response = client.post("/users", json={"name": "ada"}, headers=reader)
    challenge = f'{REALM}, error="insufficient_scope", scope="{WRITE}"'
    assert_problem(response, 403, "forbidden", challenge)
    assert client.get("/users", headers=reader).json()["count"] == 0


def test_a_token_without_the_read_scope_cannot_read(
    client: TestClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    writer = bearer(token(rsa_key, scope=WRITE))
    challenge = f'{REALM}, error="insufficient_scope", scope="{READ}"'
    assert_problem(client.get("/users", headers=writer), 403, "forbidden", challenge)
    assert client.post("/users", json={"name": "ada"}, headers=writer).status_code == 201


@pytest.mark.parametrize(
    "path",
    [
        "/livez",
        "/readyz",
        "/openapi.json",
        "/docs",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-init.js",
    ],
)
def test_probes_and_documentation_stay_open(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_a_wrong_method_is_still_405_without_a_token(client: TestClient) -> None:
    assert client.put("/users").status_code == 405


def test_the_openapi_document_declares_the_bearer_scheme_and_scopes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    create = document["paths"]["/users"]["post"]
    assert create["security"] == [{"bearer": [WRITE]}]
    assert document["paths"]["/users"]["get"]["security"] == [{"bearer": [READ]}]
    assert {"401", "403"} <= set(create["responses"])
    assert "security" not in document["paths"]["/livez"]["get"]


def test_without_a_verifier_nothing_asks_for_a_token() -> None:
    app = create_app(UserService(InMemoryUserRepository(), FixedClock()))
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
        assert client.post("/users", json={"name": "ada"}).status_code == 201
    assert "securitySchemes" not in document["components"]
    assert "401" not in document["paths"]["/users"]["post"]["responses"]


def test_the_settings_turn_authentication_on_with_a_jwks_file(
    tmp_path: Path, jwks: dict[str, Any], rsa_key: rsa.RSAPrivateKey
) -> None:
    assert verifier_from_settings(Settings(database_url=None)) is None
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    verifier = verifier_from_settings(Settings(auth_jwks=str(path), auth_issuer=ISSUER))
    assert verifier is not None
    principal = verifier.verify(token(rsa_key, scope=READ))
    assert (principal.subject, principal.scopes) == ("client-1", frozenset({READ}))


def test_a_jwks_without_signature_keys_is_refused() -> None:
    with pytest.raises(ValueError, match="JWKS"):
        JwksVerifier({"keys": []}, audience=AUDIENCE, issuer=None)
    with pytest.raises(ValueError, match="asymmetric"):
        JwksVerifier(
            {"keys": [{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}]},
            audience=AUDIENCE,
            issuer=None,
        )


@pytest.mark.parametrize(
    "source", ["http://keys.example/jwks.json", "HTTP://keys.example/", "ftp://keys.example/j"]
)
def test_a_jwks_url_without_tls_is_refused_at_start_up(source: str) -> None:
    with pytest.raises(ValueError, match=r"must be an https:// URL or a file path"):
        Settings(auth_jwks=source)


def test_a_jwks_https_url_or_file_path_is_accepted() -> None:
    assert Settings(auth_jwks="https://keys.example/jwks.json").auth_jwks is not None
    assert Settings(auth_jwks="/etc/user-service/jwks.json").auth_jwks is not None


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": str(int(time.time()) + 300)},
        {"exp": 1e308},
        {"nbf": "0"},
        {"iat": [1]},
        {"exp": MAX_NUMERIC_DATE + 1},
        {"nbf": -1},
    ],
    ids=repr,
)
def test_time_claims_must_be_numeric_dates(
    client: TestClient, rsa_key: rsa.RSAPrivateKey, claims: dict[str, Any]
) -> None:
    value = token(rsa_key, **claims)
    response = client.get("/users", headers=bearer(value))
    assert_problem(response, 401, "unauthorized", INVALID)
    assert "is not a NumericDate" in response.json()["detail"]


def _signed_by_hand(key: rsa.RSAPrivateKey, payload: bytes) -> str:
    header = jwt.utils.base64url_encode(b'{"alg":"RS256","kid":"rsa-1"}')
    signing_input = header + b"." + jwt.utils.base64url_encode(payload)
    signature = RSAAlgorithm(RSAAlgorithm.SHA256).sign(signing_input, key)
    return (signing_input + b"." + jwt.utils.base64url_encode(signature)).decode()


@pytest.mark.parametrize(
    "payload",
    [
        b'{"aud":"user-service","exp":' + b"9" * 5000 + b"}",  # Python's int digits limit
        b'{"aud":"user-service","exp":\xff}',  # not UTF-8
        b"[1, 2]",  # not an object
        b'{"aud":"user-service","iss":"https://issuer.example","exp":Infinity}',  # not JSON
    ],
    ids=["huge integer", "not UTF-8", "not an object", "Infinity"],
)
def test_why_a_token_is_refused_is_said_without_library_internals(
    client: TestClient, rsa_key: rsa.RSAPrivateKey, payload: bytes
) -> None:
    response = client.get("/users", headers=bearer(_signed_by_hand(rsa_key, payload)))
    assert_problem(response, 401, "unauthorized", INVALID)
    detail = response.json()["detail"]
    assert detail == "The bearer token is not valid: it is not a well-formed JWT."
    for internal in ("sys.", "codec", "utf-8", "<class", "Invalid payload", "digits"):
        assert internal not in detail


def test_with_authentication_the_budget_follows_the_tokens_subject(
    jwks: dict[str, Any], rsa_key: rsa.RSAPrivateKey
) -> None:
    service = UserService(InMemoryUserRepository(), FixedClock())
    verifier = JwksVerifier(jwks, audience=AUDIENCE, issuer=ISSUER)
    app = create_app(service, verifier=verifier, rate_limits=RateLimits(reads=2, writes=1))
    alice, bob = bearer(token(rsa_key, sub="alice")), bearer(token(rsa_key, sub="bob"))
    with (
        TestClient(app, client=("192.0.2.1", 1)) as here,
        TestClient(app, client=("198.51.100.7", 2)) as there,
    ):
        assert [here.get("/users", headers=alice).status_code for _ in range(2)] == [200, 200]
        # The same subject from another address: the same budget, spent.
        assert there.get("/users", headers=alice).status_code == 429
        # Another subject from the first address: a budget of its own.
        assert here.get("/users", headers=bob).status_code == 200
        # Refused by authentication: not counted, and told nothing of a budget.
        refused = here.get("/users")
        assert refused.status_code == 401
        assert "ratelimit" not in refused.headers
