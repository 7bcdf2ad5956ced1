"""`helm upgrade` to a new image tag while a steady load runs: not one request fails.

The load opens a new connection for every request, as many clients behind a load balancer do:
a kept-alive connection is pinned to its pod, and how a client handles that pod going away is
the client's business, not the release's. The upgrade's pre-upgrade migration hook runs too.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx2 as httpx

from e2e.cluster.conftest import Release
from e2e.cluster.kube import (
    CHART,
    INSTANCE,
    RELEASE,
    RESULTS,
    chart_args,
    helm,
    image,
    kubectl_json,
    load_image,
    run,
)

RATE = 20  # requests a second


@dataclass
class Load:
    base_url: str
    stop: threading.Event = field(default_factory=threading.Event)
    sent: int = 0
    failures: list[str] = field(default_factory=list)

    def run(self) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=self.base_url, timeout=5, limits=limits) as client:
            next_at = time.monotonic()
            while not self.stop.is_set():
                self.sent += 1
                try:
                    self._one(client)
                except (httpx.HTTPError, AssertionError) as error:
                    self.failures.append(f"{time.strftime('%H:%M:%S')} {error!r}")
                next_at += 1 / RATE
                time.sleep(max(0.0, next_at - time.monotonic()))

    def _one(self, client: httpx.Client) -> None:
        if self.sent % 2:
            created = client.post("/users", json={"name": f"load-{uuid.uuid4().hex[:12]}"})
            assert created.status_code == 201, (created.status_code, created.text[:200])
        else:
            listed = client.get("/users", params={"limit": 5})
            assert listed.status_code == 200, (listed.status_code, listed.text[:200])


def test_an_upgrade_to_a_new_image_under_load_fails_no_request(release: Release) -> None:
    repository, tag = image()
    new_tag = f"{tag}-upgrade"
    run("/usr/bin/docker", "tag", f"{repository}:{tag}", f"{repository}:{new_tag}")
    load_image(f"{repository}:{new_tag}")

    load = Load(release.base_url)
    worker = threading.Thread(target=load.run, daemon=True)
    worker.start()
    time.sleep(5)
    start = time.monotonic()
    helm("upgrade", RELEASE, str(CHART), *chart_args(new_tag))
    upgrade_seconds = time.monotonic() - start
    time.sleep(10)
    load.stop.set()
    worker.join(timeout=30)

    RESULTS.figures["upgrade"] = {
        "seconds": round(upgrade_seconds, 1),
        "requests": load.sent,
        "failed": len(load.failures),
        "rate_per_second": RATE,
    }
    assert load.sent > RATE * 15
    assert load.failures == [], load.failures[:20]
    pods = kubectl_json("get", "pods", f"--selector={INSTANCE},app.kubernetes.io/component=api")
    images = {
        c["image"]
        for pod in pods["items"]
        if pod["metadata"].get("deletionTimestamp") is None
        for c in pod["spec"]["containers"]
    }
    assert images == {f"{repository}:{new_tag}"}
