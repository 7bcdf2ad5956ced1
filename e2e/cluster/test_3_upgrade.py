"""`helm upgrade` to a new image tag while a steady create-and-read load runs
(e2e/cluster/steady.py): not one request fails, and every acknowledged create is there
afterwards. The upgrade's pre-upgrade migration hook runs too.
"""

from __future__ import annotations

import time

from e2e.cluster.conftest import Release
from e2e.cluster.kube import (
    CHART,
    RELEASE,
    RESULTS,
    api_pods,
    chart_args,
    helm,
    image,
    load_image,
    run,
)
from e2e.cluster.steady import SteadyLoad

RATE = 20  # requests a second


def test_an_upgrade_to_a_new_image_under_load_fails_no_request(release: Release) -> None:
    repository, tag = image()
    new_tag = f"{tag}-upgrade"
    run("/usr/bin/docker", "tag", f"{repository}:{tag}", f"{repository}:{new_tag}")
    load_image(f"{repository}:{new_tag}")

    with SteadyLoad(release.base_url, rate=RATE) as load:
        time.sleep(5)
        start = time.monotonic()
        helm("upgrade", RELEASE, str(CHART), *chart_args(new_tag))
        upgrade_seconds = time.monotonic() - start
        time.sleep(10)

    RESULTS.figures["upgrade"] = {
        "seconds": round(upgrade_seconds, 1),
        **load.figures(),
        "rate_per_second": RATE,
    }
    assert len(load.answers) > RATE * 15
    assert load.failures() == [], load.failures()[:20]
    assert load.unreadable() == []
    images = {c["image"] for pod in api_pods() for c in pod["spec"]["containers"]}
    assert images == {f"{repository}:{new_tag}"}
