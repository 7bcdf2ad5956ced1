"""user_http: the HTTP adapter of user_core, a thin Starlette application.

The composition root builds it with :func:`create_app`::

    app = create_app(UserService(repository, clock), readiness=database_is_ready)

It imports ``user_core`` and never a database driver: readiness comes in as a
:class:`ReadinessProbe`, metrics as a :class:`MetricsExposition`, and telemetry middleware
through ``create_app(middleware=...)`` (:func:`request_id_of` names the request it serves).
"""

from user_http.app import create_app
from user_http.auth import READ_SCOPE, WRITE_SCOPE, InvalidToken, Principal, TokenVerifier
from user_http.metrics_endpoint import MetricsExposition
from user_http.probes import ReadinessProbe, ShutdownSignal
from user_http.rate_limit import RateLimits
from user_http.request_id import request_id_of
from user_http.schemas import MAX_BODY_BYTES

__all__ = [
    "MAX_BODY_BYTES",
    "READ_SCOPE",
    "WRITE_SCOPE",
    "InvalidToken",
    "MetricsExposition",
    "Principal",
    "RateLimits",
    "ReadinessProbe",
    "ShutdownSignal",
    "TokenVerifier",
    "create_app",
    "request_id_of",
]
