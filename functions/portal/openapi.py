"""An OpenAPI 3.1 document built from the routes' declarations and their pydantic models.

Routes declare themselves with `PortalApi.route(...)` (registry.py), which registers the HTTP trigger and
records its contract, so the document cannot drift from what is served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

_PARAM = re.compile(r"\{\*?([A-Za-z_][A-Za-z0-9_]*)[^}]*\}")
Auth = Literal["bearer", "visit", "session", "none"]
"""bearer: a portal access token; visit: the visit_session cookie of an EHR launch, or a portal access token;
session: that cookie only (a page for the clinician's browser, which answers its own errors); none: anonymous."""


class FieldError(BaseModel):
    field: str
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, the body of every API error."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


@dataclass(frozen=True)
class ApiRoute:
    function_name: str
    method: str
    route: str
    summary: str
    tag: str
    auth: Auth
    request: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    description: str = ""
    response_kind: Literal["json", "empty", "redirect", "any"] = "json"
    parameters: type[BaseModel] | None = None
    """The path and query parameters with their constraints: a field named as a path parameter is that, every
    other field a query parameter. The registry validates requests against it (400 on a mismatch)."""
    also_csv: bool = False
    """The route answers text/csv as well, when asked with format=csv."""
    errors_as: Literal["problem", "html"] = "problem"
    """problem+json for API callers; html for routes a browser follows (a page that says what to do)."""

    @property
    def openapi_path(self) -> str:
        return "/api/" + _PARAM.sub(lambda m: "{" + m.group(1) + "}", self.route)

    @property
    def path_parameters(self) -> list[str]:
        return _PARAM.findall(self.route)

    @property
    def path_pattern(self) -> re.Pattern[str]:
        """The route as the router matches it: literals case-insensitively, a parameter as one path segment (a
        group of its name)."""
        pieces: list[str] = []
        last = 0
        for parameter in _PARAM.finditer(self.route):
            pieces += [re.escape(self.route[last : parameter.start()]), f"(?P<{parameter.group(1)}>[^/]+)"]
            last = parameter.end()
        return re.compile("^" + "".join(pieces) + re.escape(self.route[last:]) + r"\Z", re.IGNORECASE | re.DOTALL)

    @property
    def precedence(self) -> tuple[int, ...]:
        """Sorts a route before another whose segment at the first difference is a parameter where its own is
        a literal (`portal/sms/outbox` before `portal/sms/{name}`)."""
        return tuple(1 if _PARAM.search(segment) else 0 for segment in self.route.split("/"))


def _parameters(route: ApiRoute) -> list[dict[str, Any]]:
    """The route's parameters, typed and constrained by its parameters model (path ones are plain strings without
    one)."""
    schema = route.parameters.model_json_schema(ref_template="#/components/schemas/{model}") if route.parameters else {}
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    parameters: list[dict[str, Any]] = []
    for name in route.path_parameters:
        parameters.append(_parameter(name, "path", True, properties.get(name, {"type": "string"})))
    for name, field in properties.items():
        if name not in route.path_parameters:
            parameters.append(_parameter(name, "query", name in required, field))
    return parameters


def _parameter(name: str, where: str, required: bool, field: dict[str, Any]) -> dict[str, Any]:
    schema = dict(field)
    description = schema.pop("description", None)
    parameter: dict[str, Any] = {"name": name, "in": where, "required": required, "schema": _plain(schema)}
    if description:
        parameter["description"] = description
    return parameter


def _plain(field: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without pydantic's `anyOf [X, null]` for optional values (absent means null)."""
    field.pop("title", None)
    field.pop("default", None)
    options = field.get("anyOf")
    if isinstance(options, list):
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) == 1:
            field.pop("anyOf")
            field.update(kept[0])
    return field


def _security(auth: Auth) -> list[dict[str, list[str]]]:
    schemes: dict[str, list[str]] = {"none": [], "bearer": ["bearer"], "session": ["visitSession"]}
    return [{name: []} for name in schemes.get(auth, ["bearer", "visitSession"])]


def build_document(routes: list[ApiRoute], *, title: str, version: str, server: str) -> dict[str, Any]:
    models: set[type[BaseModel]] = {ProblemDetails}
    for route in routes:
        models.update(m for m in (route.request, route.response) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    _, definitions = models_json_schema(
        [(model, "validation") for model in ordered], ref_template="#/components/schemas/{model}"
    )
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
    page = {"text/html": {"schema": {"type": "string"}}}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        parameters = _parameters(route)
        success: dict[str, Any] = {"description": HTTPStatus(route.status).phrase}
        if route.response is not None:
            success["content"] = {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{route.response.__name__}"}}
            }
            if route.also_csv:
                success["content"]["text/csv"] = {"schema": {"type": "string"}}
        elif route.response_kind == "redirect":
            success["headers"] = {"Location": {"schema": {"type": "string"}}}
        responses: dict[str, Any] = {str(route.status): success}
        if route.errors_as == "html" and route.response_kind == "redirect":
            responses["200"] = {"description": "A page for the browser (it posts a form onward)", "content": page}
        for status in route.errors:
            as_page = route.errors_as == "html" and (status in (400, 422) or route.auth == "session")
            content = page if as_page else problem
            responses[str(status)] = {"description": HTTPStatus(status).phrase, "content": content}
        operation: dict[str, Any] = {
            "operationId": route.function_name,
            "summary": route.summary,
            "tags": [route.tag],
            "parameters": parameters,
            "responses": responses,
            "security": _security(route.auth),
        }
        if route.description:
            operation["description"] = route.description
        if route.request is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{route.request.__name__}"}}},
            }
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": server}],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An Entra ID access token for the connector's API, with the Connector.Admin "
                    "or Connector.Approver app role.",
                },
                "visitSession": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "visit_session",
                    "description": "The clinician's visit session, set by their EHR launch for that visit only.",
                },
            },
        },
    }
