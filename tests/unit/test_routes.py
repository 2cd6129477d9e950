from __future__ import annotations

import pytest

from dev.host.routes import RouteError, RouteTemplate


def test_literal_route_is_case_insensitive_and_ignores_trailing_slash() -> None:
    route = RouteTemplate("health")
    assert route.match("health") == {}
    assert route.match("HEALTH/") == {}
    assert route.match("health/x") is None


def test_parameters_and_int_constraint() -> None:
    route = RouteTemplate("orgs/{org}/items/{id:int}")
    assert route.match("orgs/contoso/items/42") == {"org": "contoso", "id": "42"}
    assert route.match("orgs/contoso/items/abc") is None


def test_catch_all_takes_the_rest_including_slashes_or_nothing() -> None:
    route = RouteTemplate("files/{*path}")
    assert route.match("files/a/b/c.txt") == {"path": "a/b/c.txt"}
    assert route.match("files") == {}


def test_optional_parameter() -> None:
    route = RouteTemplate("items/{id?}")
    assert route.match("items") == {}
    assert route.match("items/7") == {"id": "7"}


def test_several_parameters_in_one_segment_and_value_checks() -> None:
    route = RouteTemplate("docs/{name}.{ext:alpha}")
    assert route.match("docs/report.csv") == {"name": "report", "ext": "csv"}
    assert RouteTemplate("page/{n:int:min(1)}").match("page/0") is None
    assert RouteTemplate("page/{n:int:min(1)}").match("page/3") == {"n": "3"}


def test_unsupported_templates_fail_at_start() -> None:
    with pytest.raises(RouteError):
        RouteTemplate("a/{*rest}/b")
    with pytest.raises(RouteError):
        RouteTemplate("a/{x:nosuch}")
