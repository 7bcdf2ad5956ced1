"""Where the service and the migration Job find the database, and when the Job runs.

CloudNativePG's application secret ``<cluster>-app`` holds ``uri`` (to ``<cluster>-rw``, the
primary), ``username``, ``password`` and ``dbname``. Through the Pooler the service connects to
``<cluster>-pooler-rw`` with transaction-mode settings; migrations always go to the primary.
"""

from __future__ import annotations

from typing import Any, Final

from tests.deploy.chart import (
    NAMESPACE,
    Rendered,
    annotations_of,
    container,
    env,
    pod_spec,
    render,
)

CLUSTER: Final = "user-service-db"
APP_SECRET: Final = "user-service-db-app"
HOOK_KINDS: Final = {"ServiceAccount", "ConfigMap", "Secret"}


def service_env(rendered: Rendered) -> dict[str, dict[str, Any]]:
    return env(container(rendered.one("Deployment"), "user-service"))


def migration_job(rendered: Rendered) -> dict[str, Any]:
    return rendered.one("Job", "user-service-migrations")


def secret_ref(variable: dict[str, Any]) -> tuple[str, str]:
    reference = variable["valueFrom"]["secretKeyRef"]
    return reference["name"], reference["key"]


def test_by_default_the_url_is_cloudnativepg_app_secret_uri(defaults: Rendered) -> None:
    variables = service_env(defaults)
    assert secret_ref(variables["USER_SERVICE_DATABASE_URL"]) == (APP_SECRET, "uri")
    assert "USER_SERVICE_PGBOUNCER_TRANSACTION_MODE" not in variables
    assert defaults.of_kind("Cluster") == []
    assert defaults.of_kind("Pooler") == []


def test_through_the_pooler_the_url_is_the_pooler_service(production: Rendered) -> None:
    variables = service_env(production)
    pooler = production.one("Pooler")["metadata"]["name"]
    assert pooler == f"{CLUSTER}-pooler-rw"
    assert variables["USER_SERVICE_DATABASE_URL"]["value"] == (
        f"postgresql://{pooler}.{NAMESPACE}.svc:5432"
    )
    assert variables["USER_SERVICE_PGBOUNCER_TRANSACTION_MODE"]["value"] == "true"
    # Credentials and database name straight from the secret, as libpq variables asyncpg reads:
    # no password ever has to be escaped into a URL.
    assert secret_ref(variables["PGUSER"]) == (APP_SECRET, "username")
    assert secret_ref(variables["PGPASSWORD"]) == (APP_SECRET, "password")
    assert secret_ref(variables["PGDATABASE"]) == (APP_SECRET, "dbname")


def test_through_the_pooler_no_statement_timeout_is_sent(production: Rendered) -> None:
    # PgBouncer refuses statement_timeout as a start-up parameter.
    config = production.one("ConfigMap", "user-service")["data"]
    assert config["USER_SERVICE_STATEMENT_TIMEOUT_MS"] == "0"


def test_the_pooler_pools_transactions_in_front_of_the_primary(production: Rendered) -> None:
    pooler = production.one("Pooler")["spec"]
    assert pooler["cluster"] == {"name": CLUSTER}
    assert pooler["type"] == "rw"
    assert pooler["pgbouncer"]["poolMode"] == "transaction"


def test_migrations_go_to_the_primary_never_the_pooler(production: Rendered) -> None:
    job = migration_job(production)
    variables = env(container(job, "migrations"))
    assert secret_ref(variables["USER_SERVICE_DATABASE_URL"]) == (APP_SECRET, "uri")
    assert "USER_SERVICE_PGBOUNCER_TRANSACTION_MODE" not in variables
    assert container(job, "migrations")["args"] == ["migrate", "up"]


def test_an_external_url_is_kept_in_a_secret(minimal: Rendered) -> None:
    secret = minimal.one("Secret", "user-service-database")
    variables = service_env(minimal)
    assert secret_ref(variables["USER_SERVICE_DATABASE_URL"]) == ("user-service-database", "url")
    assert secret["stringData"]["url"].startswith("postgresql://")
    assert annotations_of(secret) == {}


def test_migrations_run_before_install_and_upgrade(defaults: Rendered) -> None:
    job = annotations_of(migration_job(defaults))
    assert job["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["helm.sh/hook-weight"] == "0"
    assert job["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"


def test_migrations_run_after_install_when_the_release_creates_the_cluster(
    production: Rendered,
) -> None:
    # The Cluster is one of the release's own objects: before install it does not exist.
    assert len(production.of_kind("Cluster")) == 1
    assert annotations_of(migration_job(production))["helm.sh/hook"] == "post-install,pre-upgrade"


def test_what_the_migration_job_needs_is_created_by_earlier_hooks(minimal: Rendered) -> None:
    job = migration_job(minimal)
    spec = pod_spec(job)
    migrations = container(job, "migrations")
    needs = {
        ("ServiceAccount", spec["serviceAccountName"]),
        ("ConfigMap", migrations["envFrom"][0]["configMapRef"]["name"]),
        ("Secret", secret_ref(env(migrations)["USER_SERVICE_DATABASE_URL"])[0]),
    }
    job_weight = int(annotations_of(job)["helm.sh/hook-weight"])
    for kind, name in needs:
        needed = annotations_of(minimal.one(kind, name))
        assert needed["helm.sh/hook"] == annotations_of(job)["helm.sh/hook"]
        assert int(needed["helm.sh/hook-weight"]) < job_weight
        assert needed["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"


def test_the_migration_job_runs_locked_down(defaults: Rendered) -> None:
    job = migration_job(defaults)
    security = container(job, "migrations")["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert pod_spec(job)["securityContext"]["runAsNonRoot"] is True
    assert pod_spec(job)["restartPolicy"] == "Never"


def test_the_cluster_is_created_as_configured(production: Rendered) -> None:
    cluster = production.one("Cluster")
    assert cluster["metadata"]["name"] == CLUSTER
    spec = cluster["spec"]
    assert spec["instances"] == 3
    assert spec["bootstrap"] == {"initdb": {"database": "app", "owner": "app"}}
    assert spec["storage"] == {"size": "50Gi", "storageClass": "premium-rwo"}
    assert spec["postgresql"]["parameters"]["max_connections"] == "300"
    assert spec["monitoring"] == {"enablePodMonitor": True}
    assert spec["enableSuperuserAccess"] is False


def test_an_existing_secret_is_read_by_the_pods_and_the_job() -> None:
    rendered = render(
        sets=[
            "database.source=external",
            "database.external.existingSecret=users-db",
            "database.external.existingSecretKey=dsn",
        ]
    )
    assert rendered.of_kind("Secret") == []
    assert secret_ref(service_env(rendered)["USER_SERVICE_DATABASE_URL"]) == ("users-db", "dsn")
    job_env = env(container(migration_job(rendered), "migrations"))
    assert secret_ref(job_env["USER_SERVICE_DATABASE_URL"]) == ("users-db", "dsn")
