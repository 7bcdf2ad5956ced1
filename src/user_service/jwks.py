"""Bearer JWTs checked against a JSON Web Key Set: the service's :class:`TokenVerifier`.

Authentication is off unless ``USER_SERVICE_AUTH_JWKS`` names a JWKS, as a file path or an
``https://`` URL; the keys are read once, when the application is built (restart the service to
pick up rotated keys). A token must be signed by one of those keys with an asymmetric algorithm
(never ``none`` nor an HMAC, so a public key can never serve as a shared secret), unexpired, for
the configured audience (and issuer, when one is set); its scopes come from the ``scope`` claim
(space-separated, RFC 8693) or ``scp`` (a list or a string).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import jwt

from user_http import InvalidToken, Principal
from user_service.settings import Settings

ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
LEEWAY_SECONDS: Final = 30
"""Clock skew tolerated on ``exp``, ``nbf`` and ``iat``."""
_FETCH_TIMEOUT_SECONDS: Final = 10


class JwksVerifier:
    """Verifies JWTs with the keys of one JWKS (see the module's documentation)."""

    def __init__(self, jwks: Mapping[str, Any], *, audience: str, issuer: str | None) -> None:
        try:
            key_set = jwt.PyJWKSet.from_dict(dict(jwks))
        except jwt.PyJWTError as error:
            raise ValueError(f"not a usable JWKS: {error}") from error
        self._keys = [key for key in key_set.keys if key.algorithm_name in ASYMMETRIC_ALGORITHMS]
        if not self._keys:
            raise ValueError("the JWKS holds no key for an asymmetric signature algorithm")
        self._audience = audience
        self._issuer = issuer

    def verify(self, token: str) -> Principal:
        """See :meth:`user_http.TokenVerifier.verify`."""
        try:
            key = self._key_for(jwt.get_unverified_header(token))
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "aud"] + (["iss"] if self._issuer else [])},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error).rstrip(".")) from None
        subject = claims.get("sub")
        return Principal(subject if isinstance(subject, str) else None, _scopes(claims))

    def _key_for(self, header: Mapping[str, Any]) -> jwt.PyJWK:
        kid = header.get("kid")
        algorithm = header.get("alg")
        for key in self._keys:
            if (kid is None or key.key_id == kid) and key.algorithm_name == algorithm:
                return key
        raise jwt.InvalidTokenError("no configured key matches its kid and alg")


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    granted: set[str] = set()
    for claim in ("scope", "scp"):
        value = claims.get(claim)
        if isinstance(value, str):
            granted.update(value.split())
        elif isinstance(value, list):
            granted.update(item for item in value if isinstance(item, str))
    return frozenset(granted)


def load_jwks(source: str) -> dict[str, Any]:
    """The JWKS at ``source``: an ``https://`` (or ``http://``) URL, else a file path."""
    if source.startswith(("https://", "http://")):
        with urllib.request.urlopen(source, timeout=_FETCH_TIMEOUT_SECONDS) as response:
            document = json.load(response)
    else:
        document = json.loads(Path(source).expanduser().read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{source} does not hold a JWKS (a JSON object with keys)")
    return document


def verifier_from_settings(settings: Settings) -> JwksVerifier | None:
    """The verifier that the settings ask for; ``None`` when authentication is off."""
    if settings.auth_jwks is None:
        return None
    return JwksVerifier(
        load_jwks(settings.auth_jwks),
        audience=settings.auth_audience,
        issuer=settings.auth_issuer,
    )
