"""Bearer JWTs checked against a JSON Web Key Set: the service's :class:`TokenVerifier`.

Authentication is off unless ``USER_SERVICE_AUTH_JWKS`` names a JWKS, as a file path or an
``https://`` URL; the keys are read once, when the application is built (restart the service to
pick up rotated keys). A token must be signed by one of those keys with an asymmetric algorithm
(never ``none`` nor an HMAC, so a public key can never serve as a shared secret), unexpired, for
the configured audience (and issuer, when one is set); its scopes come from the ``scope`` claim
(space-separated, RFC 8693) or ``scp`` (a list or a string). Its time claims (``exp``, and ``nbf``
and ``iat`` when present) must be JSON numbers between 0 and the end of the year 9999 (RFC 7519's
NumericDate): PyJWT alone takes ``"exp": "1700000000"`` and ``1e308``.

Why a token is refused is told to the client in this module's own words, never in PyJWT's or
Python's (which name internals such as codecs or ``sys.set_int_max_str_digits()``).
"""

from __future__ import annotations

import json
import math
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import jwt

from user_http import InvalidToken, Principal
from user_service.settings import Settings, jwks_source

ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
LEEWAY_SECONDS: Final = 30
"""Clock skew tolerated on ``exp``, ``nbf`` and ``iat``."""
MAX_NUMERIC_DATE: Final = 253_402_300_799
"""9999-12-31T23:59:59Z: the latest time a token's time claims may name."""
TIME_CLAIMS: Final = ("exp", "nbf", "iat")
_FETCH_TIMEOUT_SECONDS: Final = 10
# Why a token is refused, by PyJWT's exception (the most specific first); any other: not valid.
_REASONS: Final[tuple[tuple[type[jwt.PyJWTError], str], ...]] = (
    (jwt.ExpiredSignatureError, "it has expired"),
    (jwt.ImmatureSignatureError, "it is not valid yet"),
    (jwt.InvalidAudienceError, "it is not meant for this service (aud)"),
    (jwt.InvalidIssuerError, "its issuer (iss) is not the accepted one"),
    (jwt.InvalidIssuedAtError, "its iat claim is not a NumericDate"),
    (jwt.InvalidSignatureError, "its signature does not verify"),
    (jwt.InvalidAlgorithmError, "its algorithm is not accepted"),
    (jwt.DecodeError, "it is not a well-formed JWT"),
)


class _NoMatchingKey(jwt.InvalidTokenError):
    pass


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
            raise InvalidToken(_reason(error)) from None
        except (ValueError, TypeError, OverflowError):
            raise InvalidToken("it is not a well-formed JWT") from None
        for claim in TIME_CLAIMS:
            if claim in claims and not _is_numeric_date(claims[claim]):
                raise InvalidToken(f"its {claim} claim is not a NumericDate")
        subject = claims.get("sub")
        return Principal(subject if isinstance(subject, str) else None, _scopes(claims))

    def _key_for(self, header: Mapping[str, Any]) -> jwt.PyJWK:
        kid = header.get("kid")
        algorithm = header.get("alg")
        for key in self._keys:
            if (kid is None or key.key_id == kid) and key.algorithm_name == algorithm:
                return key
        raise _NoMatchingKey


def _reason(error: jwt.PyJWTError) -> str:
    if isinstance(error, _NoMatchingKey):
        return "no configured key matches its kid and alg"
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"it lacks the {error.claim} claim"
    for kind, reason in _REASONS:
        if isinstance(error, kind):
            return reason
    return "it is not valid"


def _is_numeric_date(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= MAX_NUMERIC_DATE
    )


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
    """The JWKS at ``source``: an ``https://`` URL, else a file path (see :func:`jwks_source`)."""
    jwks_source(source)
    if "://" in source:  # an https:// URL, as jwks_source checked
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
