# The user-service image: the server extra's hashed lock (requirements/server.lock) and this
# project's wheel in a virtual environment, run as an unprivileged user. The migrations ship inside
# the wheel (migrations/ becomes user_postgres/migrations), so `user-service migrate up` works from
# the image too.
#
#   docker build -t user-service .
#   docker run -p 8080:8080 -e USER_SERVICE_DATABASE_URL=postgresql://… user-service
#
# The same entry point as the README's `make run`: `user-service serve`. Without a database URL
# it starts an embedded PostgreSQL in USER_SERVICE_DATA_DIR, for trying the image alone.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
WORKDIR /src

# Behind a TLS-inspecting proxy, its CA (the optional build secret extra-ca, e.g.
# --secret id=extra-ca,src=/etc/ssl/certs/ca-certificates.crt) is trusted by this stage only;
# without the secret this step changes nothing. The runtime stage never sees it.
RUN --mount=type=secret,id=extra-ca \
    if [ -s /run/secrets/extra-ca ]; then cat /run/secrets/extra-ca >>"$SSL_CERT_FILE"; fi

# The build tools (uv, setuptools), pinned with hashes like everything else.
COPY requirements/build.lock requirements/
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --require-hashes -r requirements/build.lock

# Dependencies first: this layer is rebuilt only when the lock changes.
COPY requirements/server.lock requirements/
COPY deploy/docker/venv.sh deploy/docker/
RUN --mount=type=cache,target=/root/.cache/uv deploy/docker/venv.sh deps /opt/venv

COPY pyproject.toml README.md ./
COPY src/ src/
COPY migrations/ migrations/
RUN --mount=type=cache,target=/root/.cache/uv deploy/docker/venv.sh project /opt/venv


FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="user-service" \
      org.opencontainers.image.description="User management REST API on PostgreSQL" \
      org.opencontainers.image.licenses="MIT"

# A fixed, numeric, unprivileged identity: Kubernetes' runAsNonRoot can check it, and volumes can
# be given to it. Its data directory is only used by the embedded PostgreSQL.
RUN groupadd --system --gid 10001 user-service \
    && useradd --system --no-log-init --uid 10001 --gid user-service \
        --home-dir /home/user-service --create-home --shell /usr/sbin/nologin user-service \
    && install --directory --owner=10001 --group=10001 /var/lib/user-service

COPY --from=build /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    USER_SERVICE_HOST=0.0.0.0 \
    USER_SERVICE_PORT=8080 \
    USER_SERVICE_DATA_DIR=/var/lib/user-service

USER 10001:10001
WORKDIR /home/user-service
EXPOSE 8080

# The image has no curl: Python's standard library asks /livez (any failure exits non-zero).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['USER_SERVICE_PORT'] + '/livez', timeout=2)"]

ENTRYPOINT ["user-service"]
CMD ["serve"]
