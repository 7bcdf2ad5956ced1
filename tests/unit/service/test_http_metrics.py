"""HTTP metrics: counted by method, route template and status, timed in the agreed buckets."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.unit.service.conftest import labels, scrape
from user_core import User, UserService
from user_core.testing import FixedClock, InMemoryUserRepository
from user_http import create_app
from user_service.telemetry import Telemetry
from user_service.telemetry.metrics import LATENCY_BUCKETS

REQUESTS = "user_service_http_requests_total"
DURATION = "user_service_http_request_duration_seconds"
AGREED_BUCKETS = (
    "0.001 0.0025 0.005 0.0075 0.01 0.015 0.025 0.05 0.075 0.1 0.15 0.25 0.5 1.0 2.5 +Inf"
)


class FailingRepository(InMemoryUserRepository):
    """Fails every read with an error that no handler knows: a bug, as far as HTTP can tell."""

    async def get(self, user_id: int) -> User | None:
        raise RuntimeError("boom")


def test_requests_are_counted_by_route_template_never_by_path(client: TestClient) -> None:
    created = client.post("/users", json={"name": "ada"})
    client.get(created.headers["location"])
    client.get(created.headers["location"])
    client.get("/users/999")

    samples = scrape(client)

    user = "/users/{id}"
    assert samples[REQUESTS, labels(method="POST", route="/users", status="201")] == 1
    assert samples[REQUESTS, labels(method="GET", route=user, status="200")] == 2
    assert samples[REQUESTS, labels(method="GET", route=user, status="404")] == 1
    assert samples[f"{DURATION}_count", labels(method="GET", route=user)] == 3
    assert not any("/users/1" in dict(label_set).get("route", "") for _, label_set in samples)


def test_unmatched_paths_and_unknown_methods_keep_the_labels_bounded(client: TestClient) -> None:
    client.get("/no/such/path")
    client.get("/another/one")
    client.request("BREW", "/users")
    client.request("PATCH", "/users")

    samples = scrape(client)

    assert samples[REQUESTS, labels(method="GET", route="<unmatched>", status="404")] == 2
    assert samples[REQUESTS, labels(method="OTHER", route="/users", status="405")] == 1
    assert samples[REQUESTS, labels(method="PATCH", route="/users", status="405")] == 1


def test_the_api_page_s_files_share_one_route_label(client: TestClient) -> None:
    client.get("/docs")
    client.get("/docs/assets/swagger-ui.css")
    client.get("/docs/assets/swagger-init.js")
    client.get("/docs/assets/no-such-file.js")
    client.get("/docs/assets/another-one.js")

    samples = scrape(client)

    assets = "/docs/assets/{name}"
    assert samples[REQUESTS, labels(method="GET", route="/docs", status="200")] == 1
    assert samples[REQUESTS, labels(method="GET", route=assets, status="200")] == 2
    assert samples[REQUESTS, labels(method="GET", route=assets, status="404")] == 2
    routes = {dict(label_set)["route"] for name, label_set in samples if name == REQUESTS}
    assert {route for route in routes if route.startswith("/docs")} == {"/docs", assets}


def test_durations_fall_in_the_agreed_buckets(client: TestClient) -> None:
    client.get("/livez")

    samples = scrape(client)

    bounds = [
        dict(label_set)["le"]
        for name, label_set in samples
        if name == f"{DURATION}_bucket" and dict(label_set)["route"] == "/livez"
    ]
    assert " ".join(bounds) == AGREED_BUCKETS
    assert " ".join(map(str, LATENCY_BUCKETS)) == AGREED_BUCKETS.removesuffix(" +Inf")
    assert samples[f"{DURATION}_bucket", labels(method="GET", route="/livez", le="+Inf")] == 1


def test_the_scrape_itself_is_in_flight_and_nothing_else(client: TestClient) -> None:
    client.get("/livez")

    assert scrape(client)["user_service_http_requests_in_flight", labels()] == 1


def test_a_request_whose_handler_raised_counts_as_a_500(telemetry: Telemetry) -> None:
    failing = UserService(FailingRepository(), FixedClock())
    app = create_app(failing, observer=telemetry.request_observer(), metrics=telemetry.metrics)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/users/1").status_code == 500

        samples = scrape(client)

    assert samples[REQUESTS, labels(method="GET", route="/users/{id}", status="500")] == 1
    assert samples["user_service_http_requests_in_flight", labels()] == 1


def test_build_info_names_the_version_and_python(client: TestClient) -> None:
    samples = scrape(client)

    (build,) = [label_set for name, label_set in samples if name == "user_service_build_info"]
    assert dict(build)["version"] == "1.2.3"
    assert dict(build)["python"].count(".") == 2
    assert samples["user_service_build_info", build] == 1


def test_metrics_are_prometheus_text_and_documented(client: TestClient) -> None:
    response = client.get("/metrics")

    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    operation = client.get("/openapi.json").json()["paths"]["/metrics"]["get"]
    assert operation["operationId"] == "getMetrics"
    assert "text/plain" in operation["responses"]["200"]["content"]
