"""user_http: the HTTP adapter of user_core, a thin Starlette application.

The composition root builds it with :func:`create_app`::

    app = create_app(UserService(repository, clock), readiness=database_is_ready)

It imports ``user_core`` and never a database driver: readiness comes in as a
:class:`ReadinessProbe`.
"""

from user_http._body import MAX_BODY_BYTES
from user_http.app import create_app
from user_http.probes import ReadinessProbe, ShutdownSignal

__all__ = ["MAX_BODY_BYTES", "ReadinessProbe", "ShutdownSignal", "create_app"]
