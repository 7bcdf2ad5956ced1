"""The Grafana dashboard: every query parses as PromQL and uses only the agreed metrics and labels.

The agreed names (the project brief; the code, the dashboard, the alerts and the chart all use
them) are written out below rather than imported, so a renamed metric in the code cannot quietly
rename it here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

import promql_parser
import pytest

# Each metric: its kind and labels. Prometheus adds `instance` and `job` to every series.
AGREED_METRICS: Final = {
    "user_service_http_requests_total": ("counter", {"method", "route", "status"}),
    "user_service_http_request_duration_seconds": ("histogram", {"method", "route"}),
    "user_service_http_requests_in_flight": ("gauge", set()),
    "user_service_db_statement_duration_seconds": ("histogram", {"operation"}),
    "user_service_db_pool_connections": ("gauge", {"state"}),
    "user_service_build_info": ("gauge", {"version", "python"}),
}
TARGET_LABELS: Final = {"instance", "job"}
POOL_STATES: Final = {"size", "checked_out", "overflow", "waiting"}
GRAFANA_INTERVALS: Final = ("$__rate_interval", "$__interval", "$__range")


def _series() -> dict[str, tuple[str, set[str]]]:
    """Every series name a query may select: the metric, and its histogram's series, by metric."""
    series: dict[str, tuple[str, set[str]]] = {}
    for name, (kind, labels) in AGREED_METRICS.items():
        if kind == "histogram":
            series[f"{name}_bucket"] = (name, labels | {"le"})
            series[f"{name}_count"] = (name, labels)
            series[f"{name}_sum"] = (name, labels)
        else:
            series[name] = (name, labels)
    return series


SERIES: Final = _series()


def _labels_of(series: str | None) -> set[str]:
    return SERIES[series][1] if series in SERIES else set()


def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def _queries(dashboard: dict[str, Any]) -> list[str]:
    queries = [
        target["expr"]
        for panel in _panels(dashboard)
        for target in panel.get("targets", [])
        if "expr" in target
    ]
    variables = [
        v["query"]["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"
    ]
    return queries + [_label_values_as_selector(query) for query in variables]


def _label_values_as_selector(query: str) -> str:
    # label_values(metric, label) is Grafana's, not PromQL: check its metric as a selector.
    call = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", query)
    assert call is not None, query
    return f'{call.group(1)}{{{call.group(2)}!=""}}'


def _parse(query: str) -> promql_parser.Expr:
    for variable in GRAFANA_INTERVALS:
        query = query.replace(variable, "5m")
    return promql_parser.parse(query)


def _selectors(expression: promql_parser.Expr) -> list[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)

    promql_parser.walk(expression, pre_visit=visit)
    return found


def _aggregations(expression: promql_parser.Expr) -> list[promql_parser.AggregateExpr]:
    found: list[promql_parser.AggregateExpr] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.AggregateExpr):
            found.append(node)

    promql_parser.walk(expression, pre_visit=visit)
    return found


def test_dashboard_has_a_stable_identity(dashboard: dict[str, Any]) -> None:
    assert (dashboard["uid"], dashboard["title"]) == ("user-service", "user-service")
    assert "id" not in dashboard or dashboard["id"] is None


def test_every_panel_and_query_names_the_datasource_variable(dashboard: dict[str, Any]) -> None:
    variable = {"type": "prometheus", "uid": "${datasource}"}
    panels = [panel for panel in _panels(dashboard) if panel["type"] != "row"]
    assert panels
    assert [panel["title"] for panel in panels if panel.get("datasource") != variable] == []
    assert [
        (panel["title"], target["refId"])
        for panel in panels
        for target in panel["targets"]
        if target.get("datasource") != variable
    ] == []


def test_every_query_parses_as_promql(dashboard: dict[str, Any]) -> None:
    failures = {}
    for query in _queries(dashboard):
        try:
            _parse(query)
        except ValueError as error:
            failures[query] = str(error)
    assert failures == {}


def test_queries_select_only_agreed_metrics_with_their_labels(dashboard: dict[str, Any]) -> None:
    unknown = []
    for query in _queries(dashboard):
        for selector in _selectors(_parse(query)):
            name = selector.name
            matched = {matcher.name for matcher in selector.matchers.matchers}
            if name not in SERIES or not matched <= SERIES[name][1] | TARGET_LABELS:
                unknown.append((name, sorted(matched)))
    assert unknown == []


def test_aggregations_group_only_by_labels_their_series_carry(dashboard: dict[str, Any]) -> None:
    wrong = []
    for query in _queries(dashboard):
        for aggregation in _aggregations(_parse(query)):
            grouping = set(aggregation.modifier.labels) if aggregation.modifier else set()
            carried = set().union(
                *(_labels_of(each.name) for each in _selectors(aggregation.expr)), TARGET_LABELS
            )
            if not grouping <= carried:
                wrong.append((query, sorted(grouping - carried)))
    assert wrong == []


def test_dashboard_shows_every_agreed_metric(dashboard: dict[str, Any]) -> None:
    shown = {
        SERIES[selector.name][0] if selector.name in SERIES else selector.name
        for query in _queries(dashboard)
        for selector in _selectors(_parse(query))
    }
    assert shown == set(AGREED_METRICS)


@pytest.mark.parametrize("quantile", ["0.5", "0.95", "0.99"])
def test_latency_by_route_is_shown_at_each_quantile(
    dashboard: dict[str, Any], quantile: str
) -> None:
    expected = (
        f"histogram_quantile({quantile}, sum by (le, route) "
        "(rate(user_service_http_request_duration_seconds_bucket"
    )
    assert any(query.startswith(expected) for query in _queries(dashboard))


def test_error_ratios_separate_server_and_client_errors(dashboard: dict[str, Any]) -> None:
    queries = _queries(dashboard)
    assert any('status=~"5.."' in query for query in queries)
    assert any('status=~"4.."' in query for query in queries)


def test_pool_states_filtered_on_are_agreed_ones(dashboard: dict[str, Any]) -> None:
    states = {
        matcher.value
        for query in _queries(dashboard)
        for selector in _selectors(_parse(query))
        for matcher in selector.matchers.matchers
        if matcher.name == "state"
    }
    assert states <= POOL_STATES


def test_panels_fit_the_grid_without_overlapping(dashboard: dict[str, Any]) -> None:
    cells: dict[tuple[int, int], str] = {}
    overlaps = []
    for panel in _panels(dashboard):
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, panel["title"]
        for x in range(box["x"], box["x"] + box["w"]):
            for y in range(box["y"], box["y"] + box["h"]):
                if (x, y) in cells:
                    overlaps.append((cells[(x, y)], panel["title"]))
                cells[(x, y)] = panel["title"]
    assert overlaps == []
