"""Authentication through the service's own application: one setting turns it on."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from pydantic import SecretStr
from starlette.testclient import TestClient

from user_service.asgi import create_application
from user_service.container import Container
from user_service.settings import Settings


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def secured_client(
    empty_database_url: str, tmp_path: Path, key: ec.EllipticCurvePrivateKey
) -> Iterator[TestClient]:
    jwk = {**json.loads(ECAlgorithm.to_jwk(key.public_key())), "kid": "k1", "alg": "ES256"}
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}))
    container = Container()
    container.settings.override(
        Settings(
            database_url=SecretStr(empty_database_url),
            migrate_on_start=False,
            auth_jwks=str(jwks),
        )
    )
    with TestClient(create_application(container)) as client:
        yield client


def test_with_auth_jwks_set_users_need_a_token_and_probes_do_not(
    secured_client: TestClient, key: ec.EllipticCurvePrivateKey
) -> None:
    now = int(time.time())
    claims = {"aud": "user-service", "exp": now + 60, "scope": "users:read users:write"}
    token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})

    assert secured_client.get("/users").status_code == 401
    assert secured_client.get("/readyz").status_code == 200
    assert secured_client.get("/metrics").status_code == 200
    created = secured_client.post(
        "/users", json={"name": "ada"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201
